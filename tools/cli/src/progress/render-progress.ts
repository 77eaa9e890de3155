import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { Observable, Subscription } from 'rxjs';
import type { TrainEvent } from '@bevzip/ir';
import { formatNumber, metricLine, StageTracker } from './summary-lines';

/** Options of {@link renderProgress}. */
export interface ProgressOptions {
  /** Where to write (default `process.stderr`). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Bars (true) or summary lines (false); default: whether `stream` is a TTY. */
  tty?: boolean;
  /** Without a TTY, at most one step summary per this many milliseconds (default 10 000). */
  intervalMs?: number;
  /** Warnings printed before the rest are only counted (default 20). */
  maxWarnings?: number;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
}

/** Where lines go and how steps are shown; the two modes differ only here. */
interface Sink {
  line(text: string): void;
  stageStart(t: StageTracker): void;
  step(t: StageTracker): void;
  stageEnd(t: StageTracker): void;
  close(): void;
}

function ttySink(stream: NodeJS.WritableStream): Sink {
  const multi = new MultiBar(
    {
      stream,
      format: '{stage} {bar} {value}/{total} | loss {loss} | lr {lr} | {rate} step/s | eta {eta_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      fps: 5,
    },
    Presets.shades_classic,
  );
  const bars = new Map<StageTracker, SingleBar>();
  const payload = (t: StageTracker) => ({
    stage: t.stage,
    loss: t.last ? formatNumber(t.last.total) : '-',
    lr: t.last ? formatNumber(t.last.lr) : '-',
    rate: formatNumber(t.rate()),
  });
  return {
    line: (text) => multi.log(text + '\n'),
    stageStart: (t) => void bars.set(t, multi.create(t.total, t.done, payload(t))),
    step: (t) => bars.get(t)?.update(t.done, payload(t)),
    stageEnd: (t) => bars.get(t)?.update(t.total, payload(t)),
    close: () => {
      // log() only buffers until the next redraw; draw once more so the last lines are not lost.
      multi.update();
      multi.stop();
    },
  };
}

function lineSink(stream: NodeJS.WritableStream, intervalMs: number, now: () => number): Sink {
  let lastPrinted = -Infinity;
  const write = (text: string) => stream.write(text + '\n');
  return {
    line: write,
    stageStart: (t) =>
      write(`[${t.stage}] ${t.done > 0 ? `resuming at step ${t.done} of` : 'starting,'} ${t.total} steps`),
    step: (t) => {
      if (now() - lastPrinted < intervalMs) return;
      lastPrinted = now();
      write(t.summary());
    },
    stageEnd: (t) => write(`${t.summary()} done`),
    close: () => {},
  };
}

/**
 * Shows a run's progress: cli-progress bars on a TTY; otherwise plain lines — stage start and end,
 * at most one step summary per `intervalMs`, validation metrics grouped per step, warnings (up to
 * `maxWarnings`, then only counted), checkpoints and the run's end — so a log file stays small.
 * Returns the subscription; it ends with the stream.
 */
export function renderProgress(events: Observable<TrainEvent>, options: ProgressOptions = {}): Subscription {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  const sink =
    (options.tty ?? Boolean(stream.isTTY))
      ? ttySink(stream)
      : lineSink(stream, options.intervalMs ?? 10_000, now);
  const maxWarnings = options.maxWarnings ?? 20;
  const trackers = new Map<string, StageTracker>();
  let pending: { stage: string; step: number; metrics: { name: string; value: number }[] } | undefined;
  let warnings = 0;
  const flush = () => {
    if (pending) sink.line(metricLine(pending.stage, pending.step, pending.metrics));
    pending = undefined;
  };
  const finish = () => {
    flush();
    if (warnings > maxWarnings) sink.line(`${warnings - maxWarnings} more warnings not shown`);
    sink.close();
  };
  return events.subscribe({
    next: (e) => {
      if (e.type !== 'metric') flush();
      switch (e.type) {
        case 'stage-start': {
          const t = new StageTracker(e.stage, e.steps, e.startStep, now);
          trackers.set(e.stage, t);
          sink.stageStart(t);
          break;
        }
        case 'step': {
          const t = trackers.get(e.stage);
          if (t) {
            t.step(e);
            sink.step(t);
          }
          break;
        }
        case 'stage-end': {
          const t = trackers.get(e.stage);
          if (t) sink.stageEnd(t);
          break;
        }
        case 'metric':
          if (pending && (pending.stage !== e.stage || pending.step !== e.step)) flush();
          pending ??= { stage: e.stage, step: e.step, metrics: [] };
          pending.metrics.push({ name: e.name, value: e.value });
          break;
        case 'warning':
          if (++warnings <= maxWarnings) sink.line(`warning ${e.code}: ${e.message}`);
          break;
        case 'checkpoint':
          sink.line(`[${e.stage}] checkpoint ${e.dir}`);
          break;
        case 'run-end':
          flush();
          sink.line(e.completed ? 'run complete' : `run failed${e.error ? `: ${e.error}` : ''}`);
          break;
        default:
          break;
      }
    },
    complete: finish,
    error: finish,
  });
}
