import {
  bootstrapRng,
  createDetectionConfig,
  detectionFrameTable,
  DETECTION_CLASSES,
  type DetectionClass,
  type EvalBox,
  type EvalBoxes,
  type FrameEvaluation,
} from '@bevzip/driving-data';
import { BOOTSTRAP_PROTOCOL, compareModels } from './protocol';

const cfg = createDetectionConfig({
  classRange: Object.fromEntries(DETECTION_CLASSES.map((c) => [c, 40])) as Record<DetectionClass, number>,
});
const FRAMES = 40;

function carAt(token: string, x: number, y: number, score: number): EvalBox {
  return {
    sampleToken: token,
    translation: [x, y, 0],
    size: [1.9, 4.5, 1.6],
    rotation: [1, 0, 0, 0],
    velocity: [0, 0],
    detectionName: 'car',
    detectionScore: score,
    attributeName: 'vehicle.parked',
    egoDist: Math.hypot(x, y),
    numPts: score < 0 ? 5 : -1,
  };
}

/** Two cars per frame; the model finds each with probability `hit` and adds one false positive per frame. */
function evaluation(hit: number, seed: number): FrameEvaluation {
  const rng = bootstrapRng(seed);
  const gt: EvalBoxes = new Map();
  const pred: EvalBoxes = new Map();
  for (let f = 0; f < FRAMES; f++) {
    const token = `frame-${f}`;
    const cars = [carAt(token, 5 + f % 7, 3, -1), carAt(token, 15, -4 - (f % 5), -1)];
    gt.set(token, cars);
    const found = cars.filter(() => rng() < hit).map((c) => carAt(token, c.translation[0] + 0.2, c.translation[1], 0.5 + 0.5 * rng()));
    pred.set(token, [...found, carAt(token, 30 * rng(), 30 * rng() - 15, 0.6 * rng())]);
  }
  return { sampleTokens: [...gt.keys()], detection: detectionFrameTable(gt, pred, cfg), classes: ['car'] };
}

describe('compareModels', () => {
  it('gives an identical model a zero difference with interval [0, 0], not significant', () => {
    const e = evaluation(0.6, 1);
    const t = compareModels([
      { name: 'base', evals: [e] },
      { name: 'same', evals: [e] },
    ]);
    const same = t.rows[1];
    expect(same.deltaMAP).toEqual({ mean: 0, lo: 0, hi: 0, significant: false });
    expect(same.deltaNDS).toEqual({ mean: 0, lo: 0, hi: 0, significant: false });
    expect(same.mAP).toEqual(t.rows[0].mAP);
    expect(t.rows[0].deltaMAP).toBeNull();
    expect(t.text).not.toMatch(/\*\s*$/m);
  });

  it('marks a clearly better model significant, with its interval above 0', () => {
    const t = compareModels([
      { name: 'weak', evals: [evaluation(0.3, 2)] },
      { name: 'strong', evals: [evaluation(0.95, 3)], extra: { 'size MB': '1.25' } },
    ]);
    const strong = t.rows[1];
    expect(strong.deltaMAP!.significant).toBe(true);
    expect(strong.deltaMAP!.lo).toBeGreaterThan(0);
    expect(strong.deltaNDS!.significant).toBe(true);
    expect(strong.mAP.mean).toBeGreaterThan(t.rows[0].mAP.mean);
    // Intervals contain their estimate; the table prints the mark, the extra column and the protocol.
    for (const r of t.rows) for (const c of [r.mAP, r.NDS]) expect(c.lo <= c.mean && c.mean <= c.hi).toBe(true);
    const line = t.text.split('\n').find((l) => l.startsWith('strong'))!;
    expect(line).toMatch(/\+0\.\d{4} \[\+0\.\d{4}, \+0\.\d{4}\] \*/);
    expect(line).toMatch(/1\.25$/);
    expect(t.text).toMatch(/weak \(baseline\)/);
    expect(t.text).toMatch(new RegExp(`${FRAMES} validation frames.*${BOOTSTRAP_PROTOCOL.resamples} resamples, seed 0`));
    expect(t).toMatchObject({ frames: FRAMES, resamples: 1000, seed: 0, confidence: 0.95, baseline: 'weak' });
  });

  it('marks a difference exactly when its interval excludes 0, whatever the baseline', () => {
    const models = [0.5, 0.55, 0.9].map((hit, i) => ({ name: `m${i}`, evals: [evaluation(hit, 10 + i)] }));
    const t = compareModels(models, { baseline: 'm1' });
    expect(t.rows[1].deltaMAP).toBeNull();
    for (const r of t.rows.filter((x) => x.name !== 'm1'))
      for (const d of [r.deltaMAP!, r.deltaNDS!]) expect(d.significant).toBe(d.lo > 0 || d.hi < 0);
    expect(t.rows[2].deltaMAP!.significant).toBe(true);
  });

  it('averages seeds and reports their spread; is reproducible', () => {
    const seeds = [evaluation(0.5, 20), evaluation(0.7, 21)];
    const a = compareModels([{ name: 'base', evals: [evaluation(0.5, 22)] }, { name: 'two', evals: seeds }]);
    const b = compareModels([{ name: 'base', evals: [evaluation(0.5, 22)] }, { name: 'two', evals: seeds }]);
    expect(a.rows).toEqual(b.rows);
    const two = a.rows[1];
    expect(two.seeds).toBe(2);
    expect(two.seedSpread.mAP.min).toBeLessThan(two.seedSpread.mAP.max);
    expect(two.mAP.mean).toBeCloseTo((two.seedSpread.mAP.min + two.seedSpread.mAP.max) / 2, 3);
  });

  it('refuses models evaluated on different frames', () => {
    const other = evaluation(0.5, 1);
    other.sampleTokens = other.sampleTokens.map((t) => `${t}x`);
    expect(() => compareModels([{ name: 'a', evals: [evaluation(0.5, 1)] }, { name: 'b', evals: [other] }])).toThrow(/frame/);
  });
});
