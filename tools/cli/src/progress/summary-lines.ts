import type { TrainEvent } from '@bevzip/ir';

type StepEvent = Extract<TrainEvent, { type: 'step' }>;

/** Seconds as `1h02m`, `3m05s` or `42s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** A number in at most 4 significant digits (exponent form when tiny or huge). */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

/**
 * Tracks a stage's steps for progress output: the latest loss, a smoothed step rate and the ETA.
 * The clock is injected so summaries are testable.
 */
export class StageTracker {
  private startedAt: number;
  private firstStep: number;
  last?: StepEvent;
  done = 0;

  constructor(
    readonly stage: string,
    readonly total: number,
    startStep: number,
    private readonly now: () => number,
  ) {
    this.startedAt = now();
    this.firstStep = startStep;
    this.done = startStep;
  }

  step(e: StepEvent): void {
    this.last = e;
    this.done = e.step + 1;
  }

  /** Steps per second since the stage (or the resume) began. */
  rate(): number {
    const elapsed = (this.now() - this.startedAt) / 1000;
    return elapsed > 0 ? (this.done - this.firstStep) / elapsed : 0;
  }

  etaSeconds(): number {
    const r = this.rate();
    return r > 0 ? (this.total - this.done) / r : Number.NaN;
  }

  /** One line: `[stage] step 120/1000 (12%) loss 3.21 lr 9.8e-4 |g| 12.3 0.85 step/s eta 17m15s`. */
  summary(): string {
    const pct = this.total > 0 ? Math.floor((100 * this.done) / this.total) : 100;
    const parts = [`[${this.stage}] step ${this.done}/${this.total} (${pct}%)`];
    if (this.last)
      parts.push(
        `loss ${formatNumber(this.last.total)}`,
        `lr ${formatNumber(this.last.lr)}`,
        `|g| ${formatNumber(this.last.gradNorm)}`,
      );
    parts.push(`${formatNumber(this.rate())} step/s`, `eta ${formatDuration(this.etaSeconds())}`);
    return parts.join(' ');
  }
}

/** Metric events of one step as one line: `[train] step 250 val/mAP 0.412 val/NDS 0.388`. */
export function metricLine(
  stage: string,
  step: number,
  metrics: ReadonlyArray<{ name: string; value: number }>,
): string {
  return `[${stage}] step ${step} ${metrics.map((m) => `${m.name} ${formatNumber(m.value)}`).join(' ')}`;
}
