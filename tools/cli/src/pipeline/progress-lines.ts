import * as fs from 'node:fs';
import type { Observable, Subscription } from 'rxjs';
import type { TrainEvent } from '@bevzip/ir';

const fmt = (v: number) => (Math.abs(v) >= 100 || v === 0 ? v.toFixed(1) : v.toPrecision(4));

/**
 * Plain progress lines for a run: stage starts and ends, about ten step lines per stage with every
 * loss term, checkpoints and warnings. Used when no richer progress renderer is installed.
 */
export function plainProgress(events: Observable<TrainEvent>, write: (line: string) => void): Subscription {
  const steps = new Map<string, number>();
  return events.subscribe((e) => {
    switch (e.type) {
      case 'run-start':
        write(`run: stages ${e.stages.join(' → ')}; plugins ${e.plugins.join(', ') || '(none)'}${e.resumedFrom ? `; resumed at ${e.resumedFrom.stage} step ${e.resumedFrom.step}` : ''}`);
        break;
      case 'stage-start':
        steps.set(e.stage, e.steps);
        write(`stage ${e.stage}: ${e.steps} steps${e.startStep > 0 ? ` (from step ${e.startStep})` : ''}`);
        break;
      case 'step': {
        const total = steps.get(e.stage) ?? 0;
        const every = Math.max(1, Math.floor(total / 10));
        if (e.step % every !== 0 && e.step !== total - 1) break;
        const terms = Object.entries(e.losses).map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
        write(`  ${e.stage} ${e.step + 1}/${total}: loss ${fmt(e.total)} (${terms}); lr ${e.lr.toExponential(2)}; ${e.samplesPerSec.toFixed(2)} samples/s`);
        break;
      }
      case 'stage-end':
        write(`stage ${e.stage}: done`);
        break;
      case 'checkpoint':
        write(`  checkpoint ${e.dir}`);
        break;
      case 'warning':
        write(`  warning [${e.code}]${e.plugin ? ` ${e.plugin}:` : ''} ${e.message}`);
        break;
      case 'run-end':
        write(e.completed ? 'run: completed' : `run: stopped${e.error ? `: ${e.error}` : ''}`);
        break;
    }
  });
}

/** Like the runtime's JSON-lines writer, but can append, so a resumed run extends the log of the first. */
export function appendJsonLines(events: Observable<TrainEvent>, file: string, append: boolean): Subscription {
  const fd = fs.openSync(file, append ? 'a' : 'w');
  let open = true;
  const close = () => {
    if (open) fs.closeSync(fd);
    open = false;
  };
  const sub = events.subscribe({
    next: (e) => open && fs.writeSync(fd, JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n'),
    complete: close,
    error: close,
  });
  sub.add(close);
  return sub;
}

/**
 * The progress display: the CLI's progress renderer when this build has one, else plain lines.
 * Returns the teardown.
 */
export function attachProgress(events: Observable<TrainEvent>, write: (line: string) => void, rich: boolean): () => void {
  if (rich) {
    let mod: Record<string, unknown> | undefined;
    try {
      mod = require('../progress') as Record<string, unknown>;
    } catch {
      mod = undefined;
    }
    const render = mod && (mod.renderProgress ?? mod.attachProgress);
    if (typeof render === 'function') {
      const r = render(events) as (() => void) | { unsubscribe(): void } | undefined;
      return () => (typeof r === 'function' ? r() : r?.unsubscribe());
    }
  }
  const sub = plainProgress(events, write);
  return () => sub.unsubscribe();
}
