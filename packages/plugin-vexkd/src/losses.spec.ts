import * as tf from '@tensorflow/tfjs';
import { attentionMap, diceDiversity, maskedAtLoss, maskedSum } from './losses';

// One sample, a 1 × 2 BEV, student and teacher of different widths (AT needs no adapter).
const student = () => tf.tensor4d([1, 2, 3, 0], [1, 1, 2, 2]);
const teacher = () => tf.tensor4d([0, 1, 0, 2, 2, 0], [1, 1, 2, 3]);
const unit = (v: number[]) => v.map((x) => x / Math.hypot(...v));
const sqDist = (a: number[], b: number[]) => a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0);

describe('VeXKD losses', () => {
  it('attention map: channel energy, unit norm per sample', () => {
    const a = attentionMap(student());
    expect(a.shape).toEqual([1, 2]);
    const want = unit([1 + 4, 9 + 0]);
    Array.from(a.dataSync()).forEach((x, i) => expect(x).toBeCloseTo(want[i], 6));
    a.dispose();
  });

  it('masked AT loss matches the hand-computed case (two masks, weights π)', () => {
    // Mask 0 = [1, 0.5], mask 1 = [0, 1]; π = [0.25, 0.75].
    const masks = tf.tensor4d([1, 0, 0.5, 1], [1, 1, 2, 2]);
    const pi = tf.tensor1d([0.25, 0.75]);
    // Mask 0: student cells (1,2)→5, (1.5,0)→2.25; teacher (0,1,0)→1, (1,1,0)→2.
    const l0 = sqDist(unit([5, 2.25]), unit([1, 2]));
    // Mask 1: only cell 1 survives, so both maps are (0, 1): no loss.
    const l1 = sqDist([0, 1], [0, 1]);
    const got = maskedAtLoss(student(), teacher(), masks, pi);
    expect(got.dataSync()[0]).toBeCloseTo(0.25 * l0 + 0.75 * l1, 6);
    const full = maskedAtLoss(student(), teacher(), tf.ones([1, 1, 2, 1]), tf.ones([1]) as tf.Tensor1D);
    expect(full.dataSync()[0]).toBeCloseTo(sqDist(unit([5, 9]), unit([1, 8])), 6);
    tf.dispose([masks, pi, got, full]);
  });

  it('resizes a student map to the teacher size, and its gradient matches finite differences', () => {
    const s = tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 5);
    const t = tf.randomNormal([2, 2, 2, 5], 0, 1, 'float32', 6);
    const m = tf.randomUniform([2, 2, 2, 2], 0, 1, 'float32', 7);
    const w = tf.tensor1d([0.4, 0.6]);
    const f = (x: tf.Tensor) => maskedAtLoss(x, t, m, w);
    const g = tf.grad(f)(s);
    const base = s.arraySync() as number[][][][];
    const h = 1e-2;
    for (const [b, i, j, c] of [[0, 0, 0, 0], [1, 3, 2, 1], [0, 2, 1, 2]]) {
      const bump = (d: number) => {
        const x = base.map((r) => r.map((q) => q.map((v) => [...v])));
        x[b][i][j][c] += d;
        return tf.tidy(() => f(tf.tensor4d(x)).dataSync()[0]);
      };
      const numeric = (bump(h) - bump(-h)) / (2 * h);
      const analytic = (g.arraySync() as number[][][][])[b][i][j][c];
      expect(Math.abs(analytic - numeric)).toBeLessThan(2e-3 + 2e-2 * Math.abs(numeric));
    }
    tf.dispose([s, t, m, w, g]);
  });

  it('Dice diversity: mean over ordered pairs of different masks; zero for one mask', () => {
    // m0 = (1, 0), m1 = (0.5, 0.5): 2·0.5 / (1 + 1) = 0.5 for both ordered pairs.
    const masks = tf.tensor4d([1, 0.5, 0, 0.5], [1, 1, 2, 2]);
    const d = diceDiversity(masks);
    expect(d.dataSync()[0]).toBeCloseTo(0.5, 5);
    const one = diceDiversity(tf.ones([1, 2, 2, 1]));
    expect(one.dataSync()[0]).toBe(0);
    tf.dispose([masks, d, one]);
  });

  it('the masked sum weights each cell by Σ π M', () => {
    const f = tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]);
    const masks = tf.tensor4d([1, 0, 0.5, 1], [1, 1, 2, 2]);
    const out = maskedSum(f, masks, tf.tensor1d([0.25, 0.75]));
    // Cell 0: 0.25·1 + 0.75·0 = 0.25; cell 1: 0.25·0.5 + 0.75·1 = 0.875.
    expect(Array.from(out.dataSync())).toEqual([0.25, 0.5, 3 * 0.875, 4 * 0.875]);
    tf.dispose([f, masks, out]);
  });

  it('keeps the tensor count flat', () => {
    const s = student();
    const t = teacher();
    const m = tf.ones([1, 1, 2, 1]);
    const w = tf.ones([1]) as tf.Tensor1D;
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose([maskedAtLoss(s, t, m, w), diceDiversity(m), attentionMap(s)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([s, t, m, w]);
  });
});
