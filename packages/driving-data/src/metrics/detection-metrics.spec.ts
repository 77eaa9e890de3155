import { accumulate } from './accumulate';
import { calcAp, calcTp } from './calc';
import { DETECTION_CVPR_2019 } from './detection-config';
import {
  aggregateDetection,
  isTpErrorUndefined,
  summarizeDetection,
  type MetricDataList,
} from './detection-metrics';
import { TP_METRICS, type TpMetric } from './eval-box';
import { linspace } from './numpy-compat';
import { N_RECALL_POINTS, noPredictions, type DetectionMetricData } from './metric-data';
import { mockResults, seededDevkitRandom } from './testing/devkit-fixtures';
import type { DetectionClass } from '../data/types';

describe('summarizeDetection', () => {
  it('reproduces the devkit test_nd_score value on its seeded random scenario', () => {
    // test_algo.py TestAlgo.test_nd_score: 30 samples, 3 GT and 25 predictions per class, every
    // threshold accumulated at 2 m, both generators seeded with 42. Expected NDS 0.08606662159639042.
    const rand = seededDevkitRandom(42);
    const cfg = DETECTION_CVPR_2019;
    const data: MetricDataList = {};
    for (const cls of Object.keys(cfg.classRange) as DetectionClass[]) {
      const { gt, pred } = mockResults(rand, 30, 3, 25, cls);
      data[cls] = Object.fromEntries(cfg.distThs.map((th) => [String(th), accumulate(gt, pred, cls, 2)]));
    }
    const metrics = summarizeDetection(data, cfg);
    expect(metrics.ndScore).toBeCloseTo(0.08606662159639042, 15);
    expect(Number.isNaN(metrics.labelTpErrors.traffic_cone.orient_err)).toBe(true);
    expect(Number.isNaN(metrics.labelTpErrors.barrier.vel_err)).toBe(true);
    expect(Number.isNaN(metrics.labelTpErrors.barrier.orient_err)).toBe(false);
  });

  it('names the class and threshold when a curve is missing', () => {
    expect(() => summarizeDetection({ car: {} }, DETECTION_CVPR_2019)).toThrow(
      /class car at distance threshold 0.5/,
    );
  });
});

describe('aggregateDetection', () => {
  it('computes mAP, NaN-aware mean errors, clipped scores and NDS = (5·mAP + Σ scores)/10', () => {
    const errs = (t: number, s: number, o: number, v: number, a: number): Record<TpMetric, number> => ({
      trans_err: t,
      scale_err: s,
      orient_err: o,
      vel_err: v,
      attr_err: a,
    });
    const m = aggregateDetection(
      {
        car: { '0.5': 0.2, '1': 0.4, '2': 0.6, '4': 0.8 },
        barrier: { '0.5': 0, '1': 0.1, '2': 0.2, '4': 0.3 },
      },
      { car: errs(0.3, 0.2, 0.5, 1.5, 0.1), barrier: errs(0.5, 0.4, 0.1, NaN, NaN) },
      { meanApWeight: 5 },
    );
    expect(m.meanDistAps.car).toBeCloseTo(0.5, 15);
    expect(m.meanDistAps.barrier).toBeCloseTo(0.15, 15);
    expect(m.meanAp).toBeCloseTo(0.325, 15);
    expect(m.tpErrors.trans_err).toBeCloseTo(0.4, 15);
    expect(m.tpErrors.orient_err).toBeCloseTo(0.3, 15);
    expect(m.tpErrors.vel_err).toBe(1.5); // barrier NaN ignored
    expect(m.tpScores.vel_err).toBe(0); // 1 − 1.5 clipped
    expect(m.tpScores.attr_err).toBeCloseTo(0.9, 15);
    // scores: 0.6 + 0.7 + 0.7 + 0 + 0.9 = 2.9
    expect(m.ndScore).toBeCloseTo((5 * 0.325 + 2.9) / 10, 15);
  });

  it('scores a metric 0 when it is NaN for every class', () => {
    const nan: Record<TpMetric, number> = {
      trans_err: 0,
      scale_err: 0,
      orient_err: NaN,
      vel_err: NaN,
      attr_err: NaN,
    };
    const m = aggregateDetection({ traffic_cone: { '2': 1 } }, { traffic_cone: nan }, { meanApWeight: 5 });
    expect(m.tpScores.orient_err).toBe(0);
    expect(m.ndScore).toBeCloseTo((5 + 2) / 10, 15);
  });
});

describe('TP-error rules per class', () => {
  it('leaves attribute, velocity and orientation undefined for cones and attribute and velocity for barriers', () => {
    const undefinedFor = (cls: string) => TP_METRICS.filter((m) => isTpErrorUndefined(cls, m));
    expect(undefinedFor('traffic_cone')).toEqual(['orient_err', 'vel_err', 'attr_err']);
    expect(undefinedFor('barrier')).toEqual(['vel_err', 'attr_err']);
    expect(undefinedFor('car')).toEqual([]);
  });
});

describe('calcAp and calcTp', () => {
  function curve(precision: number[], confidence: number[], err: number[]): DetectionMetricData {
    const md = noPredictions();
    md.precision.set(precision);
    md.confidence.set(confidence);
    md.trans_err.set(err);
    return md;
  }

  it('returns error 1 when min_recall exceeds the maximum recall index (devkit test_calc_tp)', () => {
    const md = curve(
      Array(N_RECALL_POINTS).fill(0.5),
      Array.from(linspace(0, 1, N_RECALL_POINTS)).reverse(),
      Array(N_RECALL_POINTS).fill(0.3),
    );
    expect(calcTp(md, 1, 'trans_err')).toBe(1);
    // Indices 11..99 (confidence[100] = 0) all hold 0.3.
    expect(calcTp(md, 0.1, 'trans_err')).toBeCloseTo(0.3, 14);
  });

  it('rejects recall and precision bounds outside their ranges (devkit test_calc_ap)', () => {
    const md = noPredictions();
    expect(() => calcAp(md, -0.5, 0.4)).toThrow(/minRecall/);
    expect(() => calcAp(md, 0.5, -0.8)).toThrow(/minPrecision/);
    expect(() => calcAp(md, 0.7, 1)).toThrow(/minPrecision/);
    expect(() => calcAp(md, 1.2, 0)).toThrow(/minRecall/);
  });

  it('averages precision minus 0.1 over recall points 11..100 and rescales by 1/0.9', () => {
    // Precision 1 up to index 50, 0.05 (clipped to 0 after −0.1) afterwards: 40 of 90 points at 0.9.
    const prec = Array.from({ length: N_RECALL_POINTS }, (_, i) => (i <= 50 ? 1 : 0.05));
    const md = curve(prec, Array(N_RECALL_POINTS).fill(0.5), Array(N_RECALL_POINTS).fill(0));
    expect(calcAp(md, 0.1, 0.1)).toBeCloseTo((40 * 0.9) / 90 / 0.9, 14);
  });
});
