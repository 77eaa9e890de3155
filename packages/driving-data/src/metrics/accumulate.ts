import type { DetectionClass } from '../data/types';
import { attrAcc, centerDistance, cummean, scaleIou, velocityL2, yawDiff } from './box-errors';
import type { EvalBox, EvalBoxes, TpMetric } from './eval-box';
import { N_RECALL_POINTS, noPredictions, type DetectionMetricData } from './metric-data';
import { interp, linspace } from './numpy-compat';

/** Distance used to match a prediction to a ground-truth box. */
export type DistanceFn = (gt: EvalBox, pred: EvalBox) => number;

/**
 * Matches the predictions of one class to ground truth at one distance threshold and returns
 * the precision, confidence and TP-error curves sampled at 101 recalls (devkit `accumulate`).
 *
 * Predictions are visited by descending score (equal scores: later in `pred` order first); each
 * takes the nearest not-yet-taken ground-truth box of its class in its own sample and is a true
 * positive when that distance is below `distTh`. Curves are resampled by linear interpolation
 * without a monotone envelope; TP errors become NaN-aware running means resampled on the
 * confidence axis.
 */
export function accumulate(
  gt: EvalBoxes,
  pred: EvalBoxes,
  className: DetectionClass,
  distTh: number,
  distFn: DistanceFn = centerDistance,
): DetectionMetricData {
  let npos = 0;
  for (const boxes of gt.values()) for (const b of boxes) if (b.detectionName === className) npos++;
  if (npos === 0) return noPredictions();

  const preds: EvalBox[] = [];
  for (const boxes of pred.values()) for (const b of boxes) if (b.detectionName === className) preds.push(b);
  const order = preds.map((_, i) => i);
  order.sort((a, b) => preds[b].detectionScore - preds[a].detectionScore || b - a);

  const period = className === 'barrier' ? Math.PI : 2 * Math.PI;
  const taken = new Map<string, Set<number>>();
  const tp: number[] = [];
  const conf: number[] = [];
  const errs: Record<TpMetric, number[]> = {
    trans_err: [],
    vel_err: [],
    scale_err: [],
    orient_err: [],
    attr_err: [],
  };
  const matchConf: number[] = [];

  for (const idx of order) {
    const p = preds[idx];
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
    conf.push(p.detectionScore);
    if (minDist < distTh) {
      used.add(match);
      taken.set(p.sampleToken, used);
      tp.push(1);
      const g = candidates[match];
      errs.trans_err.push(centerDistance(g, p));
      errs.vel_err.push(velocityL2(g, p));
      errs.scale_err.push(1 - scaleIou(g, p));
      errs.orient_err.push(yawDiff(g, p, period));
      errs.attr_err.push(1 - attrAcc(g, p));
      matchConf.push(p.detectionScore);
    } else {
      tp.push(0);
    }
  }
  if (matchConf.length === 0) return noPredictions();

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
  const matchConfAsc = matchConf.slice().reverse();
  const resample = (values: number[]): Float64Array =>
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
