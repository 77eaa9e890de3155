import type { DetectionClass } from '../data/types';
import { attrAcc, centerDistance, cummean, scaleIou, velocityL2, yawDiff } from './box-errors';
import type { EvalBox, EvalBoxes, TpMetric } from './eval-box';
import { N_RECALL_POINTS, noPredictions, type DetectionMetricData } from './metric-data';
import { interp, linspace } from './numpy-compat';

/** Distance used to match a prediction to a ground-truth box. */
export type DistanceFn = (gt: EvalBox, pred: EvalBox) => number;

/**
 * The matches of one class at one distance threshold, in the order predictions are visited.
 * Errors are NaN where the prediction is a false positive.
 */
export interface ClassMatchList {
  /** Ground-truth boxes of the class. */
  npos: number;
  sampleTokens: string[];
  score: Float64Array;
  tp: Uint8Array;
  errors: Record<TpMetric, Float64Array>;
}

/**
 * Matches the predictions of one class to ground truth at one distance threshold (the matching of
 * devkit `accumulate`). Predictions are visited by descending score (equal scores: later in `pred`
 * order first); each takes the nearest not-yet-taken ground-truth box of its class in its own
 * sample and is a true positive when that distance is below `distTh`. A prediction only competes
 * with predictions of its own sample, so each sample's matches are independent of the others.
 */
export function matchClass(
  gt: EvalBoxes,
  pred: EvalBoxes,
  className: DetectionClass,
  distTh: number,
  distFn: DistanceFn = centerDistance,
): ClassMatchList {
  let npos = 0;
  for (const boxes of gt.values()) for (const b of boxes) if (b.detectionName === className) npos++;
  const preds: EvalBox[] = [];
  for (const boxes of pred.values()) for (const b of boxes) if (b.detectionName === className) preds.push(b);
  const order = preds.map((_, i) => i);
  order.sort((a, b) => preds[b].detectionScore - preds[a].detectionScore || b - a);

  const n = preds.length;
  const out: ClassMatchList = {
    npos,
    sampleTokens: new Array<string>(n),
    score: new Float64Array(n),
    tp: new Uint8Array(n),
    errors: {
      trans_err: new Float64Array(n).fill(NaN),
      vel_err: new Float64Array(n).fill(NaN),
      scale_err: new Float64Array(n).fill(NaN),
      orient_err: new Float64Array(n).fill(NaN),
      attr_err: new Float64Array(n).fill(NaN),
    },
  };
  if (npos === 0) {
    order.forEach((idx, i) => {
      out.sampleTokens[i] = preds[idx].sampleToken;
      out.score[i] = preds[idx].detectionScore;
    });
    return out;
  }
  const period = className === 'barrier' ? Math.PI : 2 * Math.PI;
  const taken = new Map<string, Set<number>>();
  order.forEach((idx, i) => {
    const p = preds[idx];
    out.sampleTokens[i] = p.sampleToken;
    out.score[i] = p.detectionScore;
    const candidates = gt.get(p.sampleToken) ?? [];
    const used = taken.get(p.sampleToken) ?? new Set<number>();
    let minDist = Infinity;
    let match = -1;
    candidates.forEach((g, gi) => {
      if (g.detectionName !== className || used.has(gi)) return;
      const d = distFn(g, p);
      if (d < minDist) {
        minDist = d;
        match = gi;
      }
    });
    if (minDist < distTh) {
      used.add(match);
      taken.set(p.sampleToken, used);
      out.tp[i] = 1;
      const g = candidates[match];
      out.errors.trans_err[i] = centerDistance(g, p);
      out.errors.vel_err[i] = velocityL2(g, p);
      out.errors.scale_err[i] = 1 - scaleIou(g, p);
      out.errors.orient_err[i] = yawDiff(g, p, period);
      out.errors.attr_err[i] = 1 - attrAcc(g, p);
    }
  });
  return out;
}

/**
 * Matches the predictions of one class to ground truth at one distance threshold and returns
 * the precision, confidence and TP-error curves sampled at 101 recalls (devkit `accumulate`).
 * Matching is {@link matchClass}'s. Curves are resampled by linear interpolation without a
 * monotone envelope; TP errors become NaN-aware running means resampled on the confidence axis.
 */
export function accumulate(
  gt: EvalBoxes,
  pred: EvalBoxes,
  className: DetectionClass,
  distTh: number,
  distFn: DistanceFn = centerDistance,
): DetectionMetricData {
  const m = matchClass(gt, pred, className, distTh, distFn);
  if (m.npos === 0) return noPredictions();
  const tpIdx: number[] = [];
  m.tp.forEach((t, i) => t && tpIdx.push(i));
  const pick = (a: Float64Array) => Float64Array.from(tpIdx, (i) => a[i]);
  const errs = {} as Record<TpMetric, Float64Array>;
  for (const k of Object.keys(m.errors) as TpMetric[]) errs[k] = pick(m.errors[k]);
  return curvesFromMatches(m.tp, m.score, m.npos, errs, pick(m.score));
}

/**
 * The curves of `accumulate` from its match list: `tp[i]` and `conf[i]` for every prediction in
 * visit order, the ground-truth count `npos`, and for the true positives (in the same order) their
 * errors and scores. Shared with the frame-resampling evaluation so both give the same numbers.
 */
export function curvesFromMatches(
  tp: ArrayLike<number>,
  conf: ArrayLike<number>,
  npos: number,
  errs: Record<TpMetric, ArrayLike<number>>,
  matchConf: ArrayLike<number>,
): DetectionMetricData {
  if (npos === 0 || matchConf.length === 0) return noPredictions();
  const n = tp.length;
  const prec = new Float64Array(n);
  const rec = new Float64Array(n);
  let cumTp = 0;
  let cumFp = 0;
  for (let i = 0; i < n; i++) {
    cumTp += tp[i];
    cumFp += 1 - tp[i];
    prec[i] = cumTp / (cumFp + cumTp);
    rec[i] = cumTp / npos;
  }
  const recall = linspace(0, 1, N_RECALL_POINTS);
  const precision = interp(recall, rec, prec, undefined, 0);
  const confidence = interp(recall, rec, conf, undefined, 0);

  // Interpolation needs increasing abscissae, so the (descending) confidence axes are reversed.
  const confAsc = confidence.slice().reverse();
  const matchConfAsc = Float64Array.from(matchConf).reverse();
  const resample = (values: ArrayLike<number>): Float64Array =>
    interp(confAsc, matchConfAsc, cummean(values).reverse()).reverse();

  return {
    recall,
    precision,
    confidence,
    trans_err: resample(errs.trans_err),
    vel_err: resample(errs.vel_err),
    scale_err: resample(errs.scale_err),
    orient_err: resample(errs.orient_err),
    attr_err: resample(errs.attr_err),
  };
}
