import { relevantAttributes } from './attributes';
import { DETECTION_CVPR_2019, createDetectionConfig } from './detection-config';
import type { EvalBox, EvalBoxes } from './eval-box';
import { evaluateDetection } from './evaluate-detection';
import { filterEvalBoxes } from './filter-boxes';
import { Mt19937 } from './testing/mt19937';
import { specBox } from './testing/devkit-fixtures';
import { DETECTION_CLASSES, type DetectionClass } from '../data/types';

/**
 * A seeded scenario with score ties, NaN ground-truth velocities, zero-point ground truth and
 * boxes beyond the class ranges. The expected numbers were produced by the devkit's own
 * accumulate / calc_ap / calc_tp / DetectionMetrics, after its distance and point filters, on
 * boxes drawn in the same order from numpy's generator seeded with 7.
 */
function scenario(): { gt: EvalBoxes; pred: EvalBoxes } {
  const rng = Mt19937.numpySeed(7);
  const box = (s: number, cls: DetectionClass, isGt: boolean): EvalBox => {
    const [x, y] = rng.rand(2).map((v) => v * 12);
    const size = rng.rand(3).map((v) => v * 3 + 0.5) as [number, number, number];
    const yaw = (rng.random() - 0.5) * 2 * Math.PI;
    let velocity = rng.rand(2).map((v) => v * 3) as [number, number];
    let numPts = -1;
    let score = -1;
    if (isGt) {
      if (rng.random() < 0.2) velocity = [NaN, NaN];
      numPts = rng.randint(0, 3);
    } else {
      score = Math.floor(rng.random() * 10) / 10;
    }
    const rel = relevantAttributes(cls);
    const attributeName = rel.length ? rel[rng.randint(0, rel.length)] : '';
    const ego = rng.random() * 60;
    return {
      sampleToken: String(s),
      translation: [x, y, 0],
      size,
      rotation: [Math.cos(yaw / 2), 0, 0, Math.sin(yaw / 2)],
      velocity,
      detectionName: cls,
      detectionScore: score,
      attributeName,
      egoDist: Math.sqrt(ego * ego),
      numPts,
    };
  };
  const gt: EvalBoxes = new Map();
  const pred: EvalBoxes = new Map();
  for (let s = 0; s < 8; s++)
    gt.set(
      String(s),
      DETECTION_CLASSES.flatMap((c) => [0, 1, 2, 3].map(() => box(s, c, true))),
    );
  for (let s = 0; s < 8; s++)
    pred.set(
      String(s),
      DETECTION_CLASSES.flatMap((c) => [0, 1, 2, 3, 4, 5].map(() => box(s, c, false))),
    );
  return { gt, pred };
}

describe('evaluateDetection', () => {
  it('matches the reference implementation on a seeded scenario with filters, ties and NaN velocities', () => {
    const { gt, pred } = scenario();
    const { metrics, filterStats } = evaluateDetection(gt, pred, DETECTION_CVPR_2019);
    expect(filterStats.gt.afterPoints).toBe(144);
    expect(filterStats.pred.afterPoints).toBe(348);
    expect(metrics.ndScore).toBeCloseTo(0.08305300153081982, 13);
    expect(metrics.meanAp).toBeCloseTo(0.04704630818743742, 13);
    expect(metrics.meanDistAps.car).toBeCloseTo(0.031568673553064676, 13);
    expect(metrics.tpErrors.trans_err).toBeCloseTo(1.2207908742286229, 12);
    expect(metrics.tpErrors.scale_err).toBeCloseTo(0.7775410097559731, 12);
    expect(metrics.tpErrors.orient_err).toBeCloseTo(1.6346113404110636, 12);
    expect(metrics.tpErrors.vel_err).toBeCloseTo(1.645735132448135, 12);
    expect(metrics.tpErrors.attr_err).toBeCloseTo(0.6271605158730158, 12);
    expect(metrics.labelTpErrors.pedestrian.orient_err).toBeCloseTo(1.7820709731428432, 12);
    expect(metrics.labelTpErrors.pedestrian.vel_err).toBeCloseTo(1.3492176850851112, 12);
    expect(metrics.labelTpErrors.barrier.orient_err).toBeCloseTo(0.8681374157481331, 12);
  });

  it('rejects prediction and ground-truth sets covering different samples', () => {
    const gt: EvalBoxes = new Map([
      ['a', []],
      ['b', []],
    ]);
    const pred: EvalBoxes = new Map([
      ['a', []],
      ['c', []],
    ]);
    expect(() => evaluateDetection(gt, pred)).toThrow(/without predictions: b; not in ground truth: c/);
  });

  it('rejects a sample with more predictions than allowed', () => {
    const cfg = createDetectionConfig({ maxBoxesPerSample: 1 });
    const pred: EvalBoxes = new Map([['a', [specBox('a', { score: 0.5 }), specBox('a', { score: 0.4 })]]]);
    expect(() => evaluateDetection(new Map([['a', []]]), pred, cfg)).toThrow(
      /sample a has 2 predictions; at most 1/,
    );
  });

  it('scores a perfect detector with AP 1 for present classes and 0 for absent ones', () => {
    const gt: EvalBoxes = new Map([
      ['a', [{ ...specBox('a', { trans: [3, 4, 0] }), egoDist: 5, numPts: 10 }]],
    ]);
    const pred: EvalBoxes = new Map([
      ['a', [{ ...specBox('a', { trans: [3, 4, 0], score: 0.9 }), egoDist: 5 }]],
    ]);
    const { metrics } = evaluateDetection(gt, pred);
    expect(metrics.meanDistAps.car).toBeCloseTo(1, 14);
    expect(metrics.meanDistAps.truck).toBe(0);
    expect(metrics.meanAp).toBeCloseTo(0.1, 14);
    expect(metrics.labelTpErrors.car.trans_err).toBe(0);
    expect(metrics.labelTpErrors.truck.trans_err).toBe(1);
  });
});

describe('filterEvalBoxes', () => {
  const at = (dist: number, name: DetectionClass, numPts: number): EvalBox => ({
    ...specBox('s', { name, attr: '' }),
    egoDist: dist,
    numPts,
  });

  it('drops boxes at or beyond their class range, then ground truth without points, then bikes in racks', () => {
    const boxes: EvalBoxes = new Map([
      [
        's',
        [
          at(49.9, 'car', 3),
          at(50, 'car', 3),
          at(39, 'bicycle', 1),
          at(35, 'traffic_cone', 2),
          at(10, 'truck', 0),
          at(10, 'truck', -1),
          at(5, 'motorcycle', 4),
        ],
      ],
    ]);
    const inRack = (b: EvalBox) => b.egoDist === 5;
    const { boxes: kept, stats } = filterEvalBoxes(boxes, DETECTION_CVPR_2019.classRange, inRack);
    expect(kept.get('s')!.map((b) => `${b.detectionName}@${b.egoDist}`)).toEqual([
      'car@49.9',
      'bicycle@39',
      'truck@10',
    ]);
    expect(stats).toEqual({ total: 7, afterDistance: 5, afterPoints: 4, afterBikeRack: 3 });
  });

  it('keeps bikes when no bike-rack hook is given, and honours custom ranges', () => {
    const boxes: EvalBoxes = new Map([['s', [at(5, 'motorcycle', 4), at(26, 'car', 1)]]]);
    const ranges = createDetectionConfig({}, DETECTION_CVPR_2019).classRange;
    expect(filterEvalBoxes(boxes, ranges).boxes.get('s')).toHaveLength(2);
    expect(filterEvalBoxes(boxes, { ...ranges, car: 25 }).boxes.get('s')).toHaveLength(1);
  });

  it('names the sample of a box without ego distance', () => {
    const boxes: EvalBoxes = new Map([['tok9', [at(NaN, 'car', 1)]]]);
    expect(() => filterEvalBoxes(boxes, DETECTION_CVPR_2019.classRange)).toThrow(
      /car box in sample tok9 has egoDist NaN/,
    );
  });
});
