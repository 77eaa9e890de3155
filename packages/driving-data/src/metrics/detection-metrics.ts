import type { DetectionClass } from '../data/types';
import { calcAp, calcTp } from './calc';
import type { DetectionConfig } from './detection-config';
import { TP_METRICS, type TpMetric } from './eval-box';
import type { DetectionMetricData } from './metric-data';
import { mean, nanMean } from './numpy-compat';

/** Curves per class and distance threshold: `metricData[cls][String(distTh)]`. */
export type MetricDataList = Partial<Record<DetectionClass, Record<string, DetectionMetricData>>>;

/** Summary of a detection evaluation, as the devkit's `metrics_summary.json`. */
export interface DetectionMetrics {
  /** AP per class and threshold, keyed by `String(distTh)`. */
  labelAps: Record<string, Record<string, number>>;
  /** AP per class averaged over the thresholds. */
  meanDistAps: Record<string, number>;
  /** mAP: mean of `meanDistAps` over the classes. */
  meanAp: number;
  /** TP errors per class at `distThTp`; NaN where undefined for the class. */
  labelTpErrors: Record<string, Record<TpMetric, number>>;
  /** Class means of the TP errors, ignoring NaN (mATE, mASE, mAOE, mAVE, mAAE). */
  tpErrors: Record<TpMetric, number>;
  /** max(0, 1 − error) per TP metric. */
  tpScores: Record<TpMetric, number>;
  /** NDS = (meanApWeight·mAP + Σ tpScores) / (meanApWeight + 5). */
  ndScore: number;
}

/**
 * Whether a TP error is meaningless for a class and is therefore NaN: traffic cones have no
 * attribute, velocity or orientation; barriers have no attribute or velocity.
 */
export function isTpErrorUndefined(className: string, metric: TpMetric): boolean {
  if (className === 'traffic_cone')
    return metric === 'attr_err' || metric === 'vel_err' || metric === 'orient_err';
  if (className === 'barrier') return metric === 'attr_err' || metric === 'vel_err';
  return false;
}

/**
 * Turns per-class curves into APs and TP errors and aggregates them into mAP, the mean TP
 * errors and NDS. Classes are those of `cfg.classRange`, in its key order.
 * @throws Error naming the class and threshold when a curve is missing from `metricData`.
 */
export function summarizeDetection(metricData: MetricDataList, cfg: DetectionConfig): DetectionMetrics {
  const classes = Object.keys(cfg.classRange) as DetectionClass[];
  const labelAps: Record<string, Record<string, number>> = {};
  const labelTpErrors: Record<string, Record<TpMetric, number>> = {};
  const curve = (cls: DetectionClass, th: number): DetectionMetricData => {
    const md = metricData[cls]?.[String(th)];
    if (!md)
      throw new Error(`summarizeDetection: no metric data for class ${cls} at distance threshold ${th}`);
    return md;
  };

  for (const cls of classes) {
    labelAps[cls] = {};
    for (const th of cfg.distThs)
      labelAps[cls][String(th)] = calcAp(curve(cls, th), cfg.minRecall, cfg.minPrecision);
    const tpCurve = curve(cls, cfg.distThTp);
    const errors = {} as Record<TpMetric, number>;
    for (const m of TP_METRICS)
      errors[m] = isTpErrorUndefined(cls, m) ? NaN : calcTp(tpCurve, cfg.minRecall, m);
    labelTpErrors[cls] = errors;
  }
  return aggregateDetection(labelAps, labelTpErrors, cfg);
}

/**
 * Aggregates per-class APs (per threshold) and TP errors into the summary metrics. Exposed
 * separately so that stored per-class results can be re-summarised.
 */
export function aggregateDetection(
  labelAps: Record<string, Record<string, number>>,
  labelTpErrors: Record<string, Record<TpMetric, number>>,
  cfg: Pick<DetectionConfig, 'meanApWeight'>,
): DetectionMetrics {
  const meanDistAps: Record<string, number> = {};
  for (const [cls, aps] of Object.entries(labelAps)) meanDistAps[cls] = mean(Object.values(aps));
  const meanAp = mean(Object.values(meanDistAps));

  const tpErrors = {} as Record<TpMetric, number>;
  const tpScores = {} as Record<TpMetric, number>;
  for (const m of TP_METRICS) {
    tpErrors[m] = nanMean(Object.values(labelTpErrors).map((e) => e[m]));
    // Errors are unbounded (metres, m/s), so the score is clipped at 0; an all-NaN error scores 0 too.
    const score = 1 - tpErrors[m];
    tpScores[m] = score > 0 ? score : 0;
  }
  let scoreSum = 0;
  for (const m of TP_METRICS) scoreSum += tpScores[m];
  const ndScore = (cfg.meanApWeight * meanAp + scoreSum) / (cfg.meanApWeight + TP_METRICS.length);

  return { labelAps, meanDistAps, meanAp, labelTpErrors, tpErrors, tpScores, ndScore };
}
