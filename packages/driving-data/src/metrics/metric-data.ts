import type { TpMetric } from './eval-box';
import { linspace } from './numpy-compat';

/** Number of recall sample points (0 %, 1 %, …, 100 %). */
export const N_RECALL_POINTS = 101;

/**
 * The accumulated curves of one class at one distance threshold (`DetectionMetricData`), all
 * sampled at the 101 recalls `linspace(0, 1, 101)`.
 */
export interface DetectionMetricData extends Record<TpMetric, Float64Array> {
  recall: Float64Array;
  precision: Float64Array;
  /** Score of the detection reaching each recall; 0 beyond the maximum recall. Non-increasing. */
  confidence: Float64Array;
}

/** The curves for a class without ground truth or without a single match: precision 0, errors 1. */
export function noPredictions(): DetectionMetricData {
  const ones = () => new Float64Array(N_RECALL_POINTS).fill(1);
  return {
    recall: linspace(0, 1, N_RECALL_POINTS),
    precision: new Float64Array(N_RECALL_POINTS),
    confidence: new Float64Array(N_RECALL_POINTS),
    trans_err: ones(),
    vel_err: ones(),
    scale_err: ones(),
    orient_err: ones(),
    attr_err: ones(),
  };
}

/** Index of the largest recall reached: the last point with non-zero confidence, or 0. */
export function maxRecallInd(md: DetectionMetricData): number {
  for (let i = md.confidence.length - 1; i >= 0; i--) if (md.confidence[i] !== 0) return i;
  return 0;
}
