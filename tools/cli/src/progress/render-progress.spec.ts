import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { Subject } from 'rxjs';
import type { TrainEvent } from '@bevzip/ir';
import { attachRunOutput, formatDuration, renderProgress } from './index';

/** A writable that keeps what it is given, optionally claiming to be a terminal. */
function sink(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  }) as Writable & {
    isTTY?: boolean;
    columns?: number;
    cursorTo?: unknown;
    clearLine?: unknown;
    moveCursor?: unknown;
  };
  stream.isTTY = isTTY;
  stream.columns = 120;
  stream.cursorTo = (_x: number, _y?: number, cb?: () => void) => cb?.();
  stream.clearLine = (_d: number, cb?: () => void) => cb?.();
  stream.moveCursor = (_x: number, _y: number, cb?: () => void) => cb?.();
  return { stream, text: () => chunks.join('') };
}

/** A 2000-step run, one step per 50 ms of a fake clock, validated every 500 steps, with 30 warnings. */
function playRun(events: Subject<TrainEvent>, clock: { t: number }): void {
  events.next({ type: 'run-start', seed: 0, stages: ['train'], plugins: [] });
  events.next({ type: 'stage-start', stage: 'train', index: 0, steps: 2000, startStep: 0 });
  for (let step = 0; step < 2000; step++) {
    clock.t += 50;
    events.next({
      type: 'step',
      stage: 'train',
      step,
      losses: { task: 10 / (1 + step) },
      total: 10 / (1 + step),
      lr: 1e-3,
      samplesPerSec: 40,
      gradNorm: 5,
    });
    if (step % 67 === 0)
      events.next({ type: 'warning', code: 'W_TEST', message: `odd step ${step}`, stage: 'train', step });
    if ((step + 1) % 500 === 0) {
      for (const name of ['val/mAP', 'val/NDS'])
        events.next({ type: 'metric', stage: 'train', step: step + 1, name, value: (step + 1) / 4000 });
    }
  }
  events.next({ type: 'stage-end', stage: 'train', index: 0, steps: 2000 });
  events.next({ type: 'run-end', completed: true });
  events.complete();
}

describe('renderProgress without a TTY', () => {
  it('prints a bounded number of lines: one summary per interval, metrics grouped per step, capped warnings', () => {
    const out = sink(false);
    const events = new Subject<TrainEvent>();
    const clock = { t: 0 };
    renderProgress(events, { stream: out.stream, intervalMs: 10_000, maxWarnings: 5, now: () => clock.t });
    playRun(events, clock);
    const lines = out.text().trimEnd().split('\n');
    const summaries = lines.filter(
      (l) => /^\[train\] step \d+\/2000 \(\d+%\) loss/.test(l) && !l.endsWith('done'),
    );
    // 100 s of steps at one summary per 10 s: the first step, then every 10 s.
    expect(summaries.length).toBe(10);
    expect(summaries[1]).toMatch(
      /^\[train\] step 201\/2000 \(10%\) loss 0\.04975 lr 0\.001 \|g\| 5 20 step\/s eta 1m30s$/,
    );
    expect(lines.filter((l) => l.includes('val/mAP'))).toEqual(
      [500, 1000, 1500, 2000].map((s) => `[train] step ${s} val/mAP ${s / 4000} val/NDS ${s / 4000}`),
    );
    expect(lines.filter((l) => l.startsWith('warning W_TEST'))).toHaveLength(5);
    expect(lines).toContain('25 more warnings not shown');
    expect(lines[0]).toBe('[train] starting, 2000 steps');
    expect(lines).toContain('run complete');
    expect(lines.length).toBeLessThanOrEqual(1 + 10 + 1 + 4 + 5 + 1 + 1);
  });

  it('reports a resumed stage and a failed run', () => {
    const out = sink(false);
    const events = new Subject<TrainEvent>();
    renderProgress(events, { stream: out.stream, now: () => 0 });
    events.next({ type: 'stage-start', stage: 'prune', index: 1, steps: 100, startStep: 40 });
    events.next({ type: 'run-end', completed: false, error: 'non-finite loss' });
    events.complete();
    expect(out.text()).toBe('[prune] resuming at step 40 of 100 steps\nrun failed: non-finite loss\n');
  });
});

describe('renderProgress on a TTY', () => {
  it('draws cli-progress bars with the loss and prints metrics and warnings above them', () => {
    const out = sink(true);
    const events = new Subject<TrainEvent>();
    const clock = { t: 0 };
    renderProgress(events, { stream: out.stream, maxWarnings: 1, now: () => clock.t });
    playRun(events, clock);
    const text = out.text();
    expect(text).toMatch(/train .* 2000\/2000 \| loss 0\.005 \| lr 0\.001/);
    expect(text).toContain('[train] step 2000 val/mAP 0.5 val/NDS 0.5');
    expect(text).toContain('29 more warnings not shown');
  });
});

describe('attachRunOutput', () => {
  it('writes every event as one JSON line next to the progress output', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-progress-'));
    const file = path.join(dir, 'events.jsonl');
    const out = sink(false);
    const events = new Subject<TrainEvent>();
    const clock = { t: 0 };
    attachRunOutput(events, { log: file, progress: { stream: out.stream, now: () => clock.t } });
    playRun(events, clock);
    const rows = fs
      .readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as TrainEvent & { time: string });
    expect(rows.filter((r) => r.type === 'step')).toHaveLength(2000);
    expect(rows[rows.length - 1]).toMatchObject({ type: 'run-end', completed: true });
    expect(out.text()).toContain('run complete');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('formats durations for the ETA', () => {
    expect([formatDuration(42), formatDuration(185), formatDuration(3720), formatDuration(NaN)]).toEqual([
      '42s',
      '3m05s',
      '1h02m',
      '?',
    ]);
  });
});
