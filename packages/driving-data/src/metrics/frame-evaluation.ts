import type { DetectionClass } from '../data/types';
import { curvesFromMatches, matchClass, type DistanceFn } from './accumulate';
import { centerDistance } from './box-errors';
import { calcAp, calcTp } from './calc';
import type { DetectionConfig } from './detection-config';
import { aggregateDetection, isTpErrorUndefined, type DetectionMetrics } from './detection-metrics';
import { TP_METRICS, type EvalBoxes, type TpMetric } from './eval-box';
import { checkSubmission, type DetectionEvalOptions } from './evaluate-detection';
import { filterEvalBoxes } from './filter-boxes';
import { MapIouAccumulator, mapIouFromHistograms, MAP_IOU_THRESHOLDS, type MapIouResult } from './map-iou';
import { noPredictions, type DetectionMetricData } from './metric-data';

/**
 * The predictions of one class at one distance threshold in the order the evaluation visits them,
 * each with its frame and match. Because a prediction only competes with predictions of its own
 * frame, these matches stay valid for any multiset of the frames: a resample only has to repeat
 * or drop entries, never to match again.
 */
export interface FrameMatchList {
  frame: Int32Array;
  score: Float64Array;
  tp: Uint8Array;
  /** TP errors (NaN for false positives); kept only at `distThTp`. */
  errors?: Record<TpMetric, Float64Array>;
}

/** Detection matches of an evaluation kept per frame (see {@link detectionFrameTable}). */
export interface DetectionFrameTable {
  /** Frames in evaluation order (the ground truth's sample order). */
  sampleTokens: string[];
  cfg: DetectionConfig;
  /** Classes of `cfg.classRange`. */
  classes: DetectionClass[];
  /** Ground-truth boxes per class and frame, after the evaluation's filters. */
  npos: Record<string, Int32Array>;
  /** `matches[class][String(distTh)]`. */
  matches: Record<string, Record<string, FrameMatchList>>;
}

/**
 * Filters and matches like `evaluateDetection` once, keeping every match with its frame, so that
 * metrics over any resample of the frames ({@link detectionMetricsOf}) only re-accumulate.
 * @throws Error as `evaluateDetection` does for mismatched samples or an invalid config.
 */
export function detectionFrameTable(
  gt: EvalBoxes,
  pred: EvalBoxes,
  cfg: DetectionConfig,
  options: DetectionEvalOptions & { distFn?: DistanceFn } = {},
): DetectionFrameTable {
  checkSubmission(gt, pred, cfg);
  const g = filterEvalBoxes(gt, cfg.classRange, options.inBikeRack).boxes;
  const p = filterEvalBoxes(pred, cfg.classRange, options.inBikeRack).boxes;
  const sampleTokens = [...gt.keys()];
  const index = new Map(sampleTokens.map((t, i) => [t, i]));
  const classes = Object.keys(cfg.classRange) as DetectionClass[];
  const npos: Record<string, Int32Array> = {};
  const matches: Record<string, Record<string, FrameMatchList>> = {};
  for (const cls of classes) {
    const counts = new Int32Array(sampleTokens.length);
    for (const [token, boxes] of g) for (const b of boxes) if (b.detectionName === cls) counts[index.get(token)!]++;
    npos[cls] = counts;
    matches[cls] = {};
    for (const th of cfg.distThs) {
      const m = matchClass(g, p, cls, th, options.distFn ?? centerDistance);
      matches[cls][String(th)] = {
        frame: Int32Array.from(m.sampleTokens, (t) => index.get(t)!),
        score: m.score,
        tp: m.tp,
        errors: th === cfg.distThTp ? m.errors : undefined,
      };
    }
  }
  return { sampleTokens, cfg, classes, npos, matches };
}

/**
 * The curves of one class and threshold over a weighted multiset of frames: frame f counts
 * `weights[f]` times (all once when omitted). Copies of one prediction are adjacent in the visit
 * order, as they would be after a stable re-sort of the duplicated set.
 */
function weightedCurves(
  list: FrameMatchList,
  npos: Int32Array,
  weights: ArrayLike<number> | undefined,
): DetectionMetricData {
  const w = (f: number) => (weights ? weights[f] : 1);
  let total = 0;
  for (let f = 0; f < npos.length; f++) total += w(f) * npos[f];
  if (total === 0) return noPredictions();
  let n = 0;
  let nMatch = 0;
  for (let i = 0; i < list.frame.length; i++) {
    const k = w(list.frame[i]);
    n += k;
    if (list.tp[i]) nMatch += k;
  }
  if (nMatch === 0) return noPredictions();
  const tp = new Uint8Array(n);
  const conf = new Float64Array(n);
  const matchConf = new Float64Array(nMatch);
  const errs = {} as Record<TpMetric, Float64Array>;
  // Errors matter only at distThTp; elsewhere constant curves keep curvesFromMatches' contract.
  for (const m of TP_METRICS) errs[m] = list.errors ? new Float64Array(nMatch) : new Float64Array(nMatch).fill(1);
  let j = 0;
  let jm = 0;
  for (let i = 0; i < list.frame.length; i++) {
    const k = w(list.frame[i]);
    for (let r = 0; r < k; r++) {
      tp[j] = list.tp[i];
      conf[j++] = list.score[i];
      if (list.tp[i]) {
        matchConf[jm] = list.score[i];
        if (list.errors) for (const m of TP_METRICS) errs[m][jm] = list.errors[m][i];
        jm++;
      }
    }
  }
  return curvesFromMatches(tp, conf, total, errs, matchConf);
}

/**
 * mAP, TP errors and NDS over `classes` (default all of the table's) for frame weights `weights`
 * (frame f counted `weights[f]` times; all once when omitted). With unit weights this is exactly
 * `evaluateDetection`'s summary re-aggregated over `classes`.
 */
export function detectionMetricsOf(
  table: DetectionFrameTable,
  weights?: ArrayLike<number>,
  classes: readonly string[] = table.classes,
): DetectionMetrics {
  const { cfg } = table;
  const labelAps: Record<string, Record<string, number>> = {};
  const labelTpErrors: Record<string, Record<TpMetric, number>> = {};
  for (const cls of classes) {
    const perTh = table.matches[cls];
    if (!perTh) throw new Error(`detectionMetricsOf: class ${cls} is not in the table (${table.classes.join(', ')})`);
    labelAps[cls] = {};
    let tpCurve: DetectionMetricData | undefined;
    for (const th of cfg.distThs) {
      const curve = weightedCurves(perTh[String(th)], table.npos[cls], weights);
      labelAps[cls][String(th)] = calcAp(curve, cfg.minRecall, cfg.minPrecision);
      if (th === cfg.distThTp) tpCurve = curve;
    }
    const errors = {} as Record<TpMetric, number>;
    for (const m of TP_METRICS)
      errors[m] = isTpErrorUndefined(cls, m) ? NaN : calcTp(tpCurve!, cfg.minRecall, m);
    labelTpErrors[cls] = errors;
  }
  return aggregateDetection(labelAps, labelTpErrors, cfg);
}

/** Map-segmentation confusion histograms kept per frame (see {@link MapFrameAccumulator}). */
export interface MapFrameTable {
  classes: string[];
  thresholds: number[];
  /** `pos[f][c]` / `neg[f][c]`: frame f's histogram of class c (`MapIouAccumulator.histograms`). */
  pos: Float64Array[][];
  neg: Float64Array[][];
}

/** Collects map IoU counts one frame at a time; their sum is what `MapIouAccumulator` counts. */
export class MapFrameAccumulator {
  private readonly acc: MapIouAccumulator;
  private readonly pos: Float64Array[][] = [];
  private readonly neg: Float64Array[][] = [];

  constructor(
    readonly classes: readonly string[],
    readonly thresholds: readonly number[] = MAP_IOU_THRESHOLDS,
  ) {
    this.acc = new MapIouAccumulator(classes, thresholds);
  }

  /** Adds the cells of one frame (arguments as `MapIouAccumulator.update`). */
  addFrame(probs: readonly Float32Array[], labels: readonly Uint8Array[]): void {
    this.acc.reset();
    this.acc.update(probs, labels);
    const h = this.acc.histograms();
    this.pos.push(h.pos);
    this.neg.push(h.neg);
  }

  table(): MapFrameTable {
    return { classes: [...this.classes], thresholds: [...this.thresholds], pos: [...this.pos], neg: [...this.neg] };
  }
}

/** Map IoUs over frame weights `weights` (all once when omitted): the per-frame histograms summed. */
export function mapIouOf(table: MapFrameTable, weights?: ArrayLike<number>): MapIouResult {
  const bins = table.thresholds.length + 1;
  const pos = table.classes.map(() => new Float64Array(bins));
  const neg = table.classes.map(() => new Float64Array(bins));
  table.pos.forEach((frame, f) => {
    const w = weights ? weights[f] : 1;
    if (w === 0) return;
    frame.forEach((h, c) => {
      for (let k = 0; k < bins; k++) {
        pos[c][k] += w * h[k];
        neg[c][k] += w * table.neg[f][c][k];
      }
    });
  });
  return mapIouFromHistograms(table.classes, table.thresholds, pos, neg);
}

/** One model's evaluation kept per frame: enough to recompute every metric on any frame resample. */
export interface FrameEvaluation {
  sampleTokens: string[];
  detection: DetectionFrameTable;
  /** Classes mAP, NDS and the TP errors average over (fixed on the full set, e.g. those with ground truth). */
  classes: string[];
  map?: MapFrameTable;
}

/** The metrics {@link frameMetrics} reports, in table order. */
export const FRAME_METRICS = ['mAP', 'NDS', 'mATE', 'mASE', 'mAOE', 'mAVE', 'mAAE', 'mIoU'] as const;
export type FrameMetric = (typeof FRAME_METRICS)[number];

/**
 * mAP, NDS, the five TP errors and map mIoU (NaN without a map table) of an evaluation over frame
 * weights `weights` (frame f counted `weights[f]` times; all once when omitted).
 */
export function frameMetrics(e: FrameEvaluation, weights?: ArrayLike<number>): Record<FrameMetric, number> {
  return headlineMetrics(detectionMetricsOf(e.detection, weights, e.classes), e.map ? mapIouOf(e.map, weights).meanIou : NaN);
}

/** The headline row of a detection evaluation (mAP, NDS, the five TP errors) with the map mIoU (NaN without a map). */
export function headlineMetrics(m: DetectionMetrics, mIoU: number): Record<FrameMetric, number> {
  return {
    mAP: m.meanAp,
    NDS: m.ndScore,
    mATE: m.tpErrors.trans_err,
    mASE: m.tpErrors.scale_err,
    mAOE: m.tpErrors.orient_err,
    mAVE: m.tpErrors.vel_err,
    mAAE: m.tpErrors.attr_err,
    mIoU,
  };
}

/** Decomposable counts of one frame; summed over frames they give the evaluation's totals. */
export interface FrameBreakdown {
  sampleToken: string;
  /** Ground-truth boxes per class after the filters. */
  gt: Record<string, number>;
  /** Predictions per class after the filters. */
  predictions: Record<string, number>;
  /** True positives per class and `String(distTh)`. */
  truePositives: Record<string, Record<string, number>>;
  /** Map cells per class at each IoU threshold. */
  mapCells?: Record<string, { tp: number[]; fp: number[]; fn: number[] }>;
}

/**
 * The per-frame counts behind an evaluation. Ground truth, predictions, true positives and map
 * TP/FP/FN cells add over frames exactly (each frame's matches are its own), so their sums are
 * the aggregate counts; AP, NDS and IoU are ratios of sums and are not sums of per-frame values,
 * which is why intervals come from resampling frames ({@link frameMetrics} with weights).
 */
export function frameBreakdown(e: FrameEvaluation): FrameBreakdown[] {
  const t = e.detection;
  const rows: FrameBreakdown[] = t.sampleTokens.map((sampleToken, f) => ({
    sampleToken,
    gt: Object.fromEntries(t.classes.map((c) => [c, t.npos[c][f]])),
    predictions: Object.fromEntries(t.classes.map((c) => [c, 0])),
    truePositives: Object.fromEntries(
      t.classes.map((c) => [c, Object.fromEntries(t.cfg.distThs.map((th) => [String(th), 0]))]),
    ),
  }));
  for (const c of t.classes) {
    t.cfg.distThs.forEach((th, i) => {
      const list = t.matches[c][String(th)];
      for (let k = 0; k < list.frame.length; k++) {
        const row = rows[list.frame[k]];
        if (i === 0) row.predictions[c]++;
        row.truePositives[c][String(th)] += list.tp[k];
      }
    });
  }
  if (e.map) {
    const m = e.map;
    rows.forEach((row, f) => {
      row.mapCells = {};
      m.classes.forEach((c, ci) => {
        const pos = m.pos[f][ci];
        const neg = m.neg[f][ci];
        const totalPos = pos.reduce((a, b) => a + b, 0);
        const cells = { tp: [] as number[], fp: [] as number[], fn: [] as number[] };
        let tp = totalPos - pos[0];
        let fp = neg.reduce((a, b) => a + b, 0) - neg[0];
        for (let k = 0; k < m.thresholds.length; k++) {
          if (k > 0) {
            tp -= pos[k];
            fp -= neg[k];
          }
          cells.tp.push(tp);
          cells.fp.push(fp);
          cells.fn.push(totalPos - tp);
        }
        row.mapCells![c] = cells;
      });
    });
  }
  return rows;
}
