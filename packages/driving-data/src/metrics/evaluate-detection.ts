import { accumulate } from './accumulate';
import { DETECTION_CVPR_2019, validateDetectionConfig, type DetectionConfig } from './detection-config';
import { summarizeDetection, type DetectionMetrics, type MetricDataList } from './detection-metrics';
import type { EvalBoxes } from './eval-box';
import { filterEvalBoxes, type FilterStats, type InBikeRack } from './filter-boxes';
import type { DetectionClass } from '../data/types';

/** Optional hooks of `evaluateDetection`. */
export interface DetectionEvalOptions {
  /** Bike-rack rule; skipped when absent (see `InBikeRack`). */
  inBikeRack?: InBikeRack;
}

/** Everything a detection evaluation produces. */
export interface DetectionEvalResult {
  metrics: DetectionMetrics;
  /** The curves behind the metrics, per class and `String(distTh)`. */
  metricData: MetricDataList;
  filterStats: { gt: FilterStats; pred: FilterStats };
}

/**
 * Runs the nuScenes detection evaluation (devkit `DetectionEval.evaluate`) on boxes whose
 * `egoDist` and `numPts` are already set: filters both sets, accumulates every class at every
 * distance threshold and summarises into mAP, TP errors and NDS.
 * @throws Error when the two sets do not cover the same samples, a sample holds more than
 *   `cfg.maxBoxesPerSample` predictions, or the config is invalid.
 */
export function evaluateDetection(
  gt: EvalBoxes,
  pred: EvalBoxes,
  cfg: DetectionConfig = DETECTION_CVPR_2019,
  options: DetectionEvalOptions = {},
): DetectionEvalResult {
  checkSubmission(gt, pred, cfg);
  const g = filterEvalBoxes(gt, cfg.classRange, options.inBikeRack);
  const p = filterEvalBoxes(pred, cfg.classRange, options.inBikeRack);
  const metricData: MetricDataList = {};
  for (const cls of Object.keys(cfg.classRange) as DetectionClass[]) {
    const perTh: Record<string, ReturnType<typeof accumulate>> = {};
    for (const th of cfg.distThs) perTh[String(th)] = accumulate(g.boxes, p.boxes, cls, th);
    metricData[cls] = perTh;
  }
  return {
    metrics: summarizeDetection(metricData, cfg),
    metricData,
    filterStats: { gt: g.stats, pred: p.stats },
  };
}

/**
 * The checks `evaluateDetection` makes before scoring: a valid config, the same samples in both
 * sets and at most `cfg.maxBoxesPerSample` predictions per sample.
 * @throws Error naming the samples or the config field at fault.
 */
export function checkSubmission(gt: EvalBoxes, pred: EvalBoxes, cfg: DetectionConfig): void {
  validateDetectionConfig(cfg);
  const missing = [...gt.keys()].filter((t) => !pred.has(t));
  const extra = [...pred.keys()].filter((t) => !gt.has(t));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      `evaluateDetection: samples of predictions and ground truth differ` +
        (missing.length ? `; without predictions: ${missing.slice(0, 5).join(', ')}` : '') +
        (extra.length ? `; not in ground truth: ${extra.slice(0, 5).join(', ')}` : ''),
    );
  }
  for (const [token, boxes] of pred) {
    if (boxes.length > cfg.maxBoxesPerSample) {
      throw new Error(
        `evaluateDetection: sample ${token} has ${boxes.length} predictions; at most ${cfg.maxBoxesPerSample} are allowed`,
      );
    }
  }
}
