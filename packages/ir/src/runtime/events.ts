import * as fs from 'node:fs';
import { Subject, type Observable, type Subscription } from 'rxjs';

/** A named loss value; `task` is the model's own loss, plugin terms are `plugin/term`. */
export type LossValues = Record<string, number>;

export interface StepEvent {
  type: 'step';
  stage: string;
  step: number;
  /** Unweighted value of each term. */
  losses: LossValues;
  /** Weighted sum of all terms, the value differentiated. */
  total: number;
  lr: number;
  samplesPerSec: number;
  /** Global L2 norm of the gradients before clipping. */
  gradNorm: number;
  /**
   * On steps that measure it ({@link StageConfig.termGradientEvery}): the L2 norm of the gradient of
   * each weighted loss term alone, by term name, before clipping. A term's share of the update.
   */
  termGradNorms?: Record<string, number>;
}

export interface TrainWarning {
  type: 'warning';
  code: string;
  message: string;
  stage?: string;
  step?: number;
  plugin?: string;
}

/** Everything a run reports, in order, on one stream. */
export type TrainEvent =
  | { type: 'run-start'; seed: number; stages: string[]; plugins: string[]; resumedFrom?: { stage: string; step: number } }
  | { type: 'run-end'; completed: boolean; error?: string }
  | { type: 'stage-start'; stage: string; index: number; steps: number; startStep: number }
  | { type: 'stage-end'; stage: string; index: number; steps: number }
  | StepEvent
  | { type: 'metric'; stage: string; step: number; name: string; value: number }
  | { type: 'checkpoint'; stage: string; step: number; dir: string }
  | TrainWarning;

/** The event stream of one run: a Subject inside, an Observable outside. */
export class EventStream {
  private readonly subject = new Subject<TrainEvent>();
  readonly events: Observable<TrainEvent> = this.subject.asObservable();

  emit(event: TrainEvent): void {
    this.subject.next(event);
  }

  complete(): void {
    this.subject.complete();
  }
}

/**
 * Appends each event as one JSON line to `file` (created or truncated on subscribe), with a
 * wall-clock timestamp. Returns the subscription; unsubscribing closes the file.
 */
export function writeJsonLines(events: Observable<TrainEvent>, file: string): Subscription {
  const fd = fs.openSync(file, 'w');
  let open = true;
  const close = () => {
    if (open) fs.closeSync(fd);
    open = false;
  };
  const sub = events.subscribe({
    next: (e) => {
      if (open) fs.writeSync(fd, JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n');
    },
    complete: close,
    error: close,
  });
  sub.add(close);
  return sub;
}
