import { accumulate } from './accumulate';
import { calcAp, calcTp } from './calc';
import { TP_METRICS } from './eval-box';
import type { DetectionClass } from '../data/types';
import { specBoxes, type BoxSpec } from './testing/devkit-fixtures';

// Cases and expected values from the nuScenes devkit's `detection/tests/test_algo.py`
// (TestAPSimple, TestTPSimple). The devkit accepts ±0.01 because curves are sampled at 1 % steps.
type Samples = Record<string, BoxSpec[]>;

function ap(gts: Samples, preds: Samples, name: DetectionClass = 'car', distTh = 2): number {
  return calcAp(accumulate(specBoxes(gts), specBoxes(preds), name, distTh), 0.1, 0.1);
}

function tpError(gts: Samples, preds: Samples, metric: (typeof TP_METRICS)[number]): number {
  return calcTp(accumulate(specBoxes(gts), specBoxes(preds), 'car', 2), 0.1, metric);
}

describe('accumulate + calcAp on the devkit AP cases', () => {
  const car1: BoxSpec = { trans: [1, 1, 1], name: 'car', score: 1 };
  const car2: BoxSpec = { trans: [3, 3, 1], name: 'car', score: 0.7 };
  const bicycle1: BoxSpec = { trans: [5, 5, 1], name: 'bicycle', score: 1 };
  const empty = { sample1: [] };

  it('gives AP 0 without ground truth, without predictions, or without both', () => {
    expect(ap(empty, { sample1: [car1] })).toBe(0);
    expect(ap({ sample1: [car1] }, empty)).toBe(0);
    expect(ap(empty, empty)).toBe(0);
  });

  it('gives AP 1 for a perfect detection', () => {
    expect(ap({ sample1: [car1] }, { sample1: [car1] })).toBeCloseTo(1, 12);
  });

  it('gives 0.4/0.9 when one of two objects is found', () => {
    expect(Math.abs(ap({ sample1: [car1, car2] }, { sample1: [car1] }) - 0.4 / 0.9)).toBeLessThanOrEqual(
      0.01,
    );
  });

  it('is not hurt by a false positive scored below the true positive', () => {
    expect(Math.abs(ap({ sample1: [car1] }, { sample1: [car1, car2] }) - 1)).toBeLessThanOrEqual(0.01);
  });

  it('gives ((0.8·0.4)/2)/0.81 when the false positive outscores the true positive', () => {
    const target = (0.8 * 0.4) / 2 / (0.9 * 0.9);
    expect(Math.abs(ap({ sample1: [car2] }, { sample1: [car1, car2] }) - target)).toBeLessThanOrEqual(0.01);
  });

  it('ignores predictions of another class', () => {
    expect(ap({ sample1: [car1] }, { sample1: [car1, bicycle1] })).toBeCloseTo(1, 12);
  });

  it('matches only within the same sample', () => {
    expect(ap({ sample1: [car1], sample2: [car2] }, { sample1: [car1], sample2: [car2] })).toBeCloseTo(1, 12);
    expect(ap({ sample1: [car1], sample2: [] }, { sample1: [car1], sample2: [] })).toBeCloseTo(1, 12);
    const oneMissed = ap({ sample1: [car1], sample2: [car2] }, { sample1: [car1], sample2: [] });
    expect(Math.abs(oneMissed - 0.4 / 0.9)).toBeLessThanOrEqual(0.01);
    // A prediction in the wrong sample finds nothing to match.
    expect(ap({ sample1: [car1], sample2: [] }, { sample1: [], sample2: [car1] })).toBe(0);
  });
});

describe('accumulate + calcTp on the devkit TP cases', () => {
  it('gives error 1 for every metric without a match', () => {
    const car1: BoxSpec = { trans: [1, 1, 1], score: 1 };
    const car2: BoxSpec = { trans: [3, 3, 1], score: 1 };
    const bike1: BoxSpec = { trans: [1, 1, 1], score: 1, name: 'bicycle', attr: 'cycle.with_rider' };
    for (const m of TP_METRICS) {
      expect(tpError({ sample1: [car1] }, { sample1: [car2] }, m)).toBe(1);
      expect(tpError({ sample1: [car1] }, { sample1: [bike1] }, m)).toBe(1);
    }
  });

  it('gives error 0 for every metric on a perfect match, whatever its score', () => {
    const car1: BoxSpec = { trans: [1, 1, 1], score: 1 };
    const car2: BoxSpec = { trans: [1, 1, 1], score: 0.3 };
    for (const m of TP_METRICS) {
      expect(tpError({ sample1: [car1] }, { sample1: [car1] }, m)).toBe(0);
      expect(tpError({ sample1: [car1] }, { sample1: [car2] }, m)).toBe(0);
    }
  });

  const gt1: BoxSpec = { trans: [1, 1, 1] };
  const gt2: BoxSpec = { trans: [10, 10, 1], size: [2, 2, 2] };
  const gt3: BoxSpec = { trans: [20, 20, 1], size: [2, 4, 2] };
  const pred1: BoxSpec = { trans: [1, 1, 1], score: 1 };
  const pred2: BoxSpec = { trans: [11, 10, 1], size: [2, 2, 2], score: 0.9 };
  const pred3: BoxSpec = { trans: [100, 10, 1], size: [2, 2, 2], score: 0.8 };
  const pred4: BoxSpec = { trans: [20, 20, 1], size: [2, 4, 2], score: 0.7 };
  const pred5: BoxSpec = { trans: [21, 20, 1], size: [2, 4, 2], score: 0.7 };
  const within = (v: number, target: number) => expect(Math.abs(v - target)).toBeLessThanOrEqual(0.01);

  it('averages the translation-error curve over recall in one sample', () => {
    within(tpError({ s: [gt2] }, { s: [pred2] }, 'trans_err'), 1);
    const two = (0 + 0) / 2 + (0 + 0.5) / 2;
    within(tpError({ s: [gt1, gt2] }, { s: [pred1, pred2] }, 'trans_err'), two / (2 * 0.9));
    within(tpError({ s: [gt1, gt2] }, { s: [pred1, pred2, pred3] }, 'trans_err'), two / (2 * 0.9));
    const three = (0 + 0) / 2 + (0 + 0.5) / 2 + (0.5 + 0.33) / 2;
    within(tpError({ s: [gt1, gt2, gt3] }, { s: [pred1, pred2, pred4] }, 'trans_err'), three / (3 * 0.9));
    within(tpError({ s: [gt2, gt3] }, { s: [pred2, pred5] }, 'trans_err'), 1);
  });

  it('averages the translation-error curve over recall across samples', () => {
    const two = ((0 + 0) / 2 + (0 + 0.5) / 2) / (2 * 0.9);
    within(tpError({ a: [gt1], b: [gt2] }, { a: [pred1], b: [pred2] }, 'trans_err'), two);
    within(
      tpError({ a: [gt1], b: [gt2], c: [] }, { a: [pred1], b: [pred2, pred3], c: [] }, 'trans_err'),
      two,
    );
    // The devkit's two-sample test moves its fourth prediction 1 m off, i.e. pred5 here.
    within(tpError({ a: [gt2, gt3], b: [gt3] }, { a: [pred2], b: [pred5] }, 'trans_err'), 1);
  });
});

describe('accumulate curves', () => {
  it('resamples precision and confidence linearly on 101 recalls, zero beyond the maximum recall', () => {
    // Two GT; predictions: FP (0.9), TP (0.8), FP (0.5). Recall after each: 0, 0.5, 0.5.
    const md = accumulate(
      specBoxes({ s: [{ trans: [0, 0, 0] }, { trans: [50, 0, 0] }] }),
      specBoxes({
        s: [
          { trans: [9, 9, 0], score: 0.9 },
          { trans: [0.3, 0.4, 0], score: 0.8 },
          { trans: [30, 30, 0], score: 0.5 },
        ],
      }),
      'car',
      1,
    );
    // Raw points (rec, prec, conf): (0, 0, 0.9), (0.5, 0.5, 0.8), (0.5, 1/3, 0.5); the last of equal recalls wins.
    expect(md.precision[0]).toBe(0);
    expect(md.precision[25]).toBeCloseTo(0.25, 12);
    expect(md.precision[50]).toBeCloseTo(1 / 3, 12);
    expect(md.precision[51]).toBe(0);
    expect(md.confidence[25]).toBeCloseTo(0.85, 12);
    expect(md.confidence[50]).toBe(0.5);
    expect(md.confidence[51]).toBe(0);
    // The single match is 0.5 m off; its running mean covers the whole confidence range.
    expect(md.trans_err[0]).toBeCloseTo(0.5, 12);
    expect(md.trans_err[50]).toBeCloseTo(0.5, 12);
    expect(md.recall[100]).toBe(1);
  });

  it('visits equal scores in reverse input order, like a reversed ascending sort', () => {
    // Both predictions tie on score and lie 0.6 m / 0.3 m from the single GT; the later one is
    // visited first, takes the GT, and the earlier one becomes a false positive.
    const md = accumulate(
      specBoxes({ s: [{ trans: [0, 0, 0] }] }),
      specBoxes({
        s: [
          { trans: [0.6, 0, 0], score: 0.5 },
          { trans: [0.3, 0, 0], score: 0.5 },
        ],
      }),
      'car',
      1,
    );
    expect(md.trans_err[100]).toBeCloseTo(0.3, 12);
    expect(md.precision[100]).toBe(0.5);
  });

  it('uses a π period for barrier orientation and 2π otherwise', () => {
    const quarterTurn: [number, number, number, number] = [0, 0, 0, 1]; // yaw π
    const gt = (name: DetectionClass) => specBoxes({ s: [{ name, rot: [1, 0, 0, 0], attr: '' }] });
    const pred = (name: DetectionClass) =>
      specBoxes({ s: [{ name, rot: quarterTurn, score: 0.9, attr: '' }] });
    expect(calcTp(accumulate(gt('barrier'), pred('barrier'), 'barrier', 2), 0.1, 'orient_err')).toBeCloseTo(
      0,
      12,
    );
    expect(calcTp(accumulate(gt('car'), pred('car'), 'car', 2), 0.1, 'orient_err')).toBeCloseTo(Math.PI, 12);
  });

  it('treats a ground truth without attribute as error 1 for the whole curve (all-NaN running mean)', () => {
    const md = accumulate(
      specBoxes({ s: [{ attr: '' }] }),
      specBoxes({ s: [{ score: 1, attr: 'vehicle.moving' }] }),
      'car',
      2,
    );
    expect(calcTp(md, 0.1, 'attr_err')).toBe(1);
    expect(calcTp(md, 0.1, 'trans_err')).toBe(0);
  });
});

describe('agreement with the reference implementation beyond the ±0.01 tolerance', () => {
  // Values the devkit's algo.py (accumulate → calc_ap / calc_tp) returns on the cases above.
  const car1: BoxSpec = { trans: [1, 1, 1], score: 1 };
  const car2: BoxSpec = { trans: [3, 3, 1], score: 0.7 };
  const gt1: BoxSpec = { trans: [1, 1, 1] };
  const gt2: BoxSpec = { trans: [10, 10, 1], size: [2, 2, 2] };
  const gt3: BoxSpec = { trans: [20, 20, 1], size: [2, 4, 2] };
  const pred1: BoxSpec = { trans: [1, 1, 1], score: 1 };
  const pred2: BoxSpec = { trans: [11, 10, 1], size: [2, 2, 2], score: 0.9 };
  const pred3: BoxSpec = { trans: [100, 10, 1], size: [2, 2, 2], score: 0.8 };
  const pred4: BoxSpec = { trans: [20, 20, 1], size: [2, 4, 2], score: 0.7 };

  it.each([
    ['perfect', { s: [car1] }, { s: [car1] }, 1.0000000000000004],
    ['one of two', { s: [car1, car2] }, { s: [car1] }, 0.4444444444444445],
    ['FP below TP', { s: [car1] }, { s: [car1, car2] }, 0.9938271604938275],
    ['FP above TP', { s: [car2] }, { s: [car1, car2] }, 0.19999999999999998],
  ])('AP for %s', (_name, gts, preds, expected) => {
    expect(ap(gts, preds)).toBeCloseTo(expected, 14);
  });

  it.each([
    ['two matches', { s: [gt1, gt2] }, { s: [pred1, pred2] }, 0.14166666666666672],
    ['two matches and a FP', { s: [gt1, gt2] }, { s: [pred1, pred2, pred3] }, 0.14166666666666672],
    ['three matches', { s: [gt1, gt2, gt3] }, { s: [pred1, pred2, pred4] }, 0.2487592592592593],
  ])('translation error for %s', (_name, gts, preds, expected) => {
    expect(tpError(gts, preds, 'trans_err')).toBeCloseTo(expected, 14);
  });
});
