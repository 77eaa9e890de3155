import type { TpMetric } from './eval-box';
import { maxRecallInd, type DetectionMetricData } from './metric-data';
import { mean, roundHalfEven } from './numpy-compat';

/**
 * Average precision from the resampled PR curve (devkit `calc_ap`): precision at the recall
 * points above `minRecall`, minus `minPrecision`, clipped at 0, averaged and rescaled by
 * 1/(1 − minPrecision).
 * @throws Error when `minRecall` ∉ [0, 1] or `minPrecision` ∉ [0, 1).
 */
export function calcAp(md: DetectionMetricData, minRecall: number, minPrecision: number): number {
  if (!(minPrecision >= 0 && minPrecision < 1)) {
    throw new Error(`calcAp: minPrecision must lie in [0, 1), got ${minPrecision}`);
  }
  if (!(minRecall >= 0 && minRecall <= 1)) {
    throw new Error(`calcAp: minRecall must lie in [0, 1], got ${minRecall}`);
  }
  // +1 leaves out the point at exactly minRecall.
  const first = roundHalfEven(100 * minRecall) + 1;
  const clipped = Array.from(md.precision.subarray(first), (p) => Math.max(p - minPrecision, 0));
  return mean(clipped) / (1 - minPrecision);
}

/**
 * Mean of one TP-error curve between the first recall point above `minRecall` and the maximum
 * recall reached, inclusive (devkit `calc_tp`); 1 when the maximum recall does not exceed
 * `minRecall`.
 */
export function calcTp(md: DetectionMetricData, minRecall: number, metric: TpMetric): number {
  const first = roundHalfEven(100 * minRecall) + 1;
  const last = maxRecallInd(md);
  if (last < first) return 1;
  return mean(md[metric].subarray(first, last + 1));
}
