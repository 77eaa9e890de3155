import { Subscription, type Observable } from 'rxjs';
import { writeJsonLines, type TrainEvent } from '@bevzip/ir';
import { renderProgress, type ProgressOptions } from './render-progress';

export { renderProgress, type ProgressOptions } from './render-progress';
export { formatDuration, formatNumber, metricLine, StageTracker } from './summary-lines';

/**
 * Subscribes a run's outputs to its event stream: a JSON-lines log (when `log` names a file) and
 * the progress display (unless `progress` is false). Unsubscribe to detach both.
 */
export function attachRunOutput(
  events: Observable<TrainEvent>,
  options: { log?: string; progress?: ProgressOptions | false },
): Subscription {
  const all = new Subscription();
  if (options.log) all.add(writeJsonLines(events, options.log));
  if (options.progress !== false) all.add(renderProgress(events, options.progress ?? {}));
  return all;
}
