import { relevantAttributes } from './attributes';
import { bootstrapRng, compareEvaluations, pairedBootstrap, quantileSorted } from './bootstrap';
import { createDetectionConfig } from './detection-config';
import type { EvalBox, EvalBoxes } from './eval-box';
import { evaluateDetection } from './evaluate-detection';
import {
  detectionFrameTable,
  detectionMetricsOf,
  frameBreakdown,
  frameMetrics,
  MapFrameAccumulator,
  mapIouOf,
  type FrameEvaluation,
} from './frame-evaluation';
import { MapIouAccumulator } from './map-iou';
import { DETECTION_CLASSES, type DetectionClass } from '../data/types';

const CLASSES: DetectionClass[] = ['car', 'pedestrian', 'barrier', 'traffic_cone'];
const cfg = createDetectionConfig({
  classRange: Object.fromEntries(DETECTION_CLASSES.map((c) => [c, 40])) as Record<DetectionClass, number>,
});

/** Random boxes on `frames` samples; `ties` rounds scores to tenths so equal scores occur. */
function scenario(frames: number, seed: number, ties = false): { gt: EvalBoxes; pred: EvalBoxes } {
  const rng = bootstrapRng(seed);
  const box = (token: string, cls: DetectionClass, isGt: boolean, near?: EvalBox): EvalBox => {
    const jitter = () => (rng() - 0.5) * 3;
    const t: [number, number, number] = near
      ? [near.translation[0] + jitter(), near.translation[1] + jitter(), 0]
      : [rng() * 30, rng() * 30, 0];
    const yaw = (rng() - 0.5) * 2 * Math.PI;
    const rel = relevantAttributes(cls);
    return {
      sampleToken: token,
      translation: t,
      size: [rng() * 2 + 0.5, rng() * 3 + 0.5, rng() + 1],
      rotation: [Math.cos(yaw / 2), 0, 0, Math.sin(yaw / 2)],
      velocity: [rng() * 3, rng() * 3],
      detectionName: cls,
      detectionScore: isGt ? -1 : ties ? Math.floor(rng() * 10) / 10 : rng(),
      attributeName: rel.length ? rel[Math.floor(rng() * rel.length)] : '',
      egoDist: rng() * 45,
      numPts: isGt ? Math.floor(rng() * 3) : -1,
    };
  };
  const gt: EvalBoxes = new Map();
  const pred: EvalBoxes = new Map();
  for (let f = 0; f < frames; f++) {
    const token = `s${f}`;
    const g = CLASSES.flatMap((c) => Array.from({ length: 1 + Math.floor(rng() * 3) }, () => box(token, c, true)));
    gt.set(token, g);
    pred.set(token, [
      ...g.filter(() => rng() < 0.7).map((b) => box(token, b.detectionName, false, b)),
      ...CLASSES.flatMap((c) => (rng() < 0.5 ? [box(token, c, false)] : [])),
    ]);
  }
  return { gt, pred };
}

function mapPlanes(rng: () => number, cells: number): { probs: Float32Array[]; labels: Uint8Array[] } {
  const probs = [0, 1].map(() => Float32Array.from({ length: cells }, () => rng()));
  const labels = probs.map((p) => Uint8Array.from(p, (v) => (v + (rng() - 0.5) * 0.6 > 0.5 ? 1 : 0)));
  return { probs, labels };
}

describe('per-frame evaluation', () => {
  it('with unit weights reproduces evaluateDetection exactly, score ties included', () => {
    const { gt, pred } = scenario(10, 3, true);
    const table = detectionFrameTable(gt, pred, cfg);
    expect(detectionMetricsOf(table)).toEqual(evaluateDetection(gt, pred, cfg).metrics);
  });

  it('weights equal an evaluation of the physically duplicated frames', () => {
    const { gt, pred } = scenario(6, 11);
    const weights = Int32Array.from([2, 0, 1, 3, 0, 1]);
    const dupGt: EvalBoxes = new Map();
    const dupPred: EvalBoxes = new Map();
    [...gt.keys()].forEach((token, f) => {
      for (let k = 0; k < weights[f]; k++) {
        const t = `${token}#${k}`;
        dupGt.set(t, gt.get(token)!.map((b) => ({ ...b, sampleToken: t })));
        dupPred.set(t, pred.get(token)!.map((b) => ({ ...b, sampleToken: t })));
      }
    });
    const table = detectionFrameTable(gt, pred, cfg);
    const got = detectionMetricsOf(table, weights);
    const want = evaluateDetection(dupGt, dupPred, cfg).metrics;
    expect(got.meanAp).toBeCloseTo(want.meanAp, 12);
    expect(got.ndScore).toBeCloseTo(want.ndScore, 12);
    for (const m of Object.keys(want.tpErrors) as (keyof typeof want.tpErrors)[])
      expect(got.tpErrors[m]).toBeCloseTo(want.tpErrors[m], 12);
  });

  it('map counts per frame sum to the accumulator over all frames, with weights too', () => {
    const rng = bootstrapRng(5);
    const perFrame = new MapFrameAccumulator(['drivable_area', 'divider']);
    const whole = new MapIouAccumulator(['drivable_area', 'divider']);
    const twice = new MapIouAccumulator(['drivable_area', 'divider']);
    for (let f = 0; f < 4; f++) {
      const { probs, labels } = mapPlanes(rng, 50);
      perFrame.addFrame(probs, labels);
      whole.update(probs, labels);
      if (f === 1) {
        twice.update(probs, labels);
        twice.update(probs, labels);
      }
    }
    expect(mapIouOf(perFrame.table())).toEqual(whole.result());
    expect(mapIouOf(perFrame.table(), [0, 2, 0, 0])).toEqual(twice.result());
  });

  it('the per-frame breakdown sums to the aggregate counts', () => {
    const { gt, pred } = scenario(8, 21);
    const rng = bootstrapRng(9);
    const acc = new MapFrameAccumulator(['drivable_area', 'divider']);
    const whole = new MapIouAccumulator(['drivable_area', 'divider']);
    for (let f = 0; f < 8; f++) {
      const { probs, labels } = mapPlanes(rng, 30);
      acc.addFrame(probs, labels);
      whole.update(probs, labels);
    }
    const table = detectionFrameTable(gt, pred, cfg);
    const rows = frameBreakdown({ sampleTokens: table.sampleTokens, detection: table, classes: CLASSES, map: acc.table() });
    expect(rows).toHaveLength(8);
    const res = evaluateDetection(gt, pred, cfg);
    for (const c of CLASSES) {
      const gtTotal = rows.reduce((a, r) => a + r.gt[c], 0);
      expect(gtTotal).toBe(table.npos[c].reduce((a, b) => a + b, 0));
      expect(gtTotal).toBeGreaterThan(0);
      for (const th of cfg.distThs) {
        const tp = rows.reduce((a, r) => a + r.truePositives[c][String(th)], 0);
        const list = table.matches[c][String(th)];
        expect(tp).toBe(list.tp.reduce((a, b) => a + b, 0));
        // Recall at the last prediction is TP / GT on the aggregate curve.
        const md = res.metricData[c]![String(th)];
        const maxRecall = tp / gtTotal;
        expect(md.recall.some((r, i) => r <= maxRecall + 1e-12 && md.precision[i] > 0) || tp === 0).toBe(true);
      }
    }
    const iou = whole.result();
    for (const [ci, c] of ['drivable_area', 'divider'].entries()) {
      iou.perClass[c].iouPerThreshold.forEach((v, k) => {
        const tp = rows.reduce((a, r) => a + r.mapCells![c].tp[k], 0);
        const fp = rows.reduce((a, r) => a + r.mapCells![c].fp[k], 0);
        const fn = rows.reduce((a, r) => a + r.mapCells![c].fn[k], 0);
        expect(tp / (tp + fp + fn + 1e-7)).toBe(v);
      });
      expect(ci).toBeLessThan(2);
    }
  });
});

describe('paired bootstrap', () => {
  const meanStat = (x: number[]) => (w: Int32Array) => {
    let s = 0;
    let n = 0;
    w.forEach((k, i) => {
      s += k * x[i];
      n += k;
    });
    return { mean: s / n };
  };

  it('matches the exact bootstrap distribution of a mean on 4 frames (all 256 resamples)', () => {
    const x = [0, 1, 2, 10];
    const exact: number[] = [];
    for (let a = 0; a < 4; a++)
      for (let b = 0; b < 4; b++)
        for (let c = 0; c < 4; c++) for (let d = 0; d < 4; d++) exact.push((x[a] + x[b] + x[c] + x[d]) / 4);
    exact.sort((p, q) => p - q);
    const cdf = (v: number) => exact.filter((e) => e <= v + 1e-12).length / exact.length;
    const r = pairedBootstrap(4, { m: meanStat(x) }, { resamples: 20000, seed: 1 });
    const iv = r.models.m.mean;
    expect(iv.estimate).toBe(3.25);
    // The sampled 2.5% / 97.5% quantiles fall where the exact distribution puts them (± 1% mass).
    expect(cdf(iv.lo)).toBeGreaterThanOrEqual(0.015);
    expect(cdf(iv.lo - 0.25)).toBeLessThanOrEqual(0.035);
    expect(cdf(iv.hi)).toBeGreaterThanOrEqual(0.965);
    expect(cdf(iv.hi - 0.25)).toBeLessThanOrEqual(0.985);
    expect(Math.abs(iv.lo - quantileSorted(exact, 0.025))).toBeLessThanOrEqual(0.25);
    expect(Math.abs(iv.hi - quantileSorted(exact, 0.975))).toBeLessThanOrEqual(0.25);
  });

  it('agrees with the normal approximation for a mean over 400 frames', () => {
    const rng = bootstrapRng(2);
    const x = Array.from({ length: 400 }, () => rng() ** 2);
    const mu = x.reduce((a, b) => a + b, 0) / x.length;
    const sd = Math.sqrt(x.reduce((a, b) => a + (b - mu) ** 2, 0) / x.length);
    const half = (1.959964 * sd) / Math.sqrt(x.length);
    const iv = pairedBootstrap(400, { m: meanStat(x) }, { resamples: 4000, seed: 3 }).models.m.mean;
    expect(iv.lo).toBeCloseTo(mu - half, 2);
    expect(iv.hi).toBeCloseTo(mu + half, 2);
    expect(Math.abs(iv.hi - iv.lo - 2 * half) / (2 * half)).toBeLessThan(0.1);
  });

  it('is reproducible by seed and draws multinomial weights', () => {
    const x = [0.13, 0.571, 0.2237, 0.9091, 0.40013];
    let total = 0;
    let calls = 0;
    const spy = (w: Int32Array) => {
      const sum = w.reduce((a, b) => a + b, 0);
      expect(sum).toBe(5);
      total += w[3];
      calls++;
      return meanStat(x)(w);
    };
    const a = pairedBootstrap(5, { m: spy }, { resamples: 3000, seed: 7 });
    expect(calls).toBe(3001);
    expect(total / 3000).toBeCloseTo(1, 1);
    expect(pairedBootstrap(5, { m: meanStat(x) }, { resamples: 3000, seed: 7 }).models).toEqual(a.models);
    expect(pairedBootstrap(5, { m: meanStat(x) }, { resamples: 3000, seed: 8 }).models).not.toEqual(a.models);
  });

  it('gives identical models a difference of exactly [0, 0], not significant', () => {
    const { gt, pred } = scenario(12, 4);
    const table = detectionFrameTable(gt, pred, cfg);
    const e: FrameEvaluation = { sampleTokens: table.sampleTokens, detection: table, classes: CLASSES };
    const r = compareEvaluations({ a: [e], b: [e] }, { resamples: 1000, seed: 0 });
    for (const m of ['mAP', 'NDS', 'mATE']) {
      expect(r.differences.b[m]).toEqual({ estimate: 0, lo: 0, hi: 0, significant: false });
      expect(r.models.a[m].lo).toBeLessThan(r.models.a[m].hi);
      expect(r.models.a[m].estimate).toBe(frameMetrics(e)[m as 'mAP']);
    }
    expect(Number.isNaN(r.models.a.mIoU.lo)).toBe(true);
  });

  it('marks a clearly better model significant and pairs the frames', () => {
    const { gt, pred } = scenario(40, 8);
    // The better model: its predictions plus an exact hit on every ground-truth box.
    const better: EvalBoxes = new Map(
      [...pred].map(([t, boxes]) => [t, [...boxes, ...gt.get(t)!.map((b) => ({ ...b, detectionScore: 0.99, numPts: -1 }))]]),
    );
    const evalOf = (p: EvalBoxes): FrameEvaluation => {
      const table = detectionFrameTable(gt, p, cfg);
      return { sampleTokens: table.sampleTokens, detection: table, classes: CLASSES };
    };
    const r = compareEvaluations({ base: [evalOf(pred)], better: [evalOf(better)] }, { resamples: 1000 });
    const d = r.differences.better.mAP;
    expect(d.estimate).toBeGreaterThan(0);
    expect(d.lo).toBeGreaterThan(0);
    expect(d.significant).toBe(true);
    // A paired interval is narrower than the two marginal intervals would suggest.
    const widthA = r.models.base.mAP.hi - r.models.base.mAP.lo;
    const widthB = r.models.better.mAP.hi - r.models.better.mAP.lo;
    expect(d.hi - d.lo).toBeLessThan(widthA + widthB);
    const other = scenario(40, 9);
    const t2 = detectionFrameTable(new Map([...other.gt].map(([t, b]) => [`x${t}`, b.map((x) => ({ ...x, sampleToken: `x${t}` }))])), new Map([...other.pred].map(([t, b]) => [`x${t}`, b.map((x) => ({ ...x, sampleToken: `x${t}` }))])), cfg);
    expect(() =>
      compareEvaluations({ a: [evalOf(pred)], b: [{ sampleTokens: t2.sampleTokens, detection: t2, classes: CLASSES }] }),
    ).toThrow(/frame xs0 at position 0 where evaluation 0 has s0/);
  });

  it('refuses bad options', () => {
    const s = meanStat([1, 2]);
    expect(() => pairedBootstrap(2, { s }, { reference: 'z' })).toThrow(/reference 'z'/);
    expect(() => pairedBootstrap(2, { s }, { resamples: 1 })).toThrow(/resamples/);
    expect(() => pairedBootstrap(0, { s })).toThrow(/frames/);
    expect(() => pairedBootstrap(2, { s }, { confidence: 1 })).toThrow(/confidence/);
  });
});
