import * as tf from '@tensorflow/tfjs';
import { featureLoss, relationLoss, relationMatrices, responseLoss, sampleBev, stopGradient } from './losses';

const value = (t: tf.Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

describe('sampleBev', () => {
  it('bilinear at cell centres, between them and half outside (zero padding), by hand', () => {
    const f = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const s = sampleBev(f, Float32Array.from([0.5, 0.5, 0, 0.25, -0.5, 0, 1, 1]), 4);
    expect(s.shape).toEqual([1, 4, 1]);
    const got = Array.from(s.dataSync());
    [2.5, 1.25, 0.5, 4].forEach((w, i) => expect(got[i]).toBeCloseTo(w, 6));
    tf.dispose([f, s]);
  });
});

describe('featureLoss', () => {
  it('(1/N) Σ_k (1/9) Σ_i (1/C)|s − t| with a padded box left out, by hand', () => {
    // One sample, two box slots (the second padding), C = 2.
    const s = tf.ones([1, 18, 2]) as tf.Tensor3D;
    const t = new Float32Array(18 * 2).fill(100);
    for (let i = 0; i < 9; i++) {
      t[i * 2] = 0;
      t[i * 2 + 1] = i < 5 ? 1 : 3;
    }
    const teacher = tf.tensor3d(t, [1, 18, 2]);
    // Points 0–4: (1 + 0)/2; points 5–8: (1 + 2)/2; over 9 points; N = 1.
    expect(value(featureLoss(s, teacher, Float32Array.from([1, 0]), 1))).toBeCloseTo((5 * 0.5 + 4 * 1.5) / 9, 6);
    tf.dispose([s, teacher]);
  });

  it('a batch without boxes gives 0', () => {
    const s = tf.ones([2, 9, 3]) as tf.Tensor3D;
    expect(value(featureLoss(s, tf.zeros([2, 9, 3]) as tf.Tensor3D, Float32Array.from([0, 0]), 0))).toBe(0);
    s.dispose();
  });
});

describe('relationLoss', () => {
  it('one point turned away from the others: 16 entries of the 9×9 matrix differ by a², by hand', () => {
    const t = tf.tensor3d(Array.from({ length: 9 }, () => [1, 0]).flat(), [1, 9, 2]);
    const s = tf.tensor3d([[0, 1], ...Array.from({ length: 8 }, () => [1, 0])].flat(), [1, 9, 2]);
    const a = 1 / (1 + 1e-4);
    expect(value(relationLoss(s, t, Float32Array.from([1]), 1))).toBeCloseTo((16 * a * a) / 81, 6);
    tf.dispose([s, t]);
  });

  it('an all-zero keypoint feature (off the map, dead ReLU) gives finite gradients', () => {
    const s = tf.tensor3d([[0, 0], ...Array.from({ length: 8 }, (_, i) => [1, i])].flat(), [1, 9, 2]);
    const t = tf.randomNormal([1, 9, 2], 0, 1, 'float32', 3) as tf.Tensor3D;
    const g = tf.grad((x: tf.Tensor) => relationLoss(x as tf.Tensor3D, t, Float32Array.from([1]), 1))(s);
    expect(g.dataSync().every(Number.isFinite)).toBe(true);
    expect(tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0])).toBeGreaterThan(0);
    tf.dispose([s, t, g]);
  });

  it('matrices equal a loop over cosines; student and teacher widths may differ; padded boxes ignored', () => {
    const s = tf.randomNormal([2, 18, 3], 0, 1, 'float32', 1) as tf.Tensor3D;
    const t = tf.randomNormal([2, 18, 5], 0, 1, 'float32', 2) as tf.Tensor3D;
    const valid = Float32Array.from([1, 0, 1, 1]);
    const host = (x: tf.Tensor3D) => x.arraySync();
    const [hs, ht] = [host(s), host(t)];
    const gram = (f: number[][]) => {
      const g = f.map((v) => v.map((x) => x / (Math.hypot(...v) + 1e-4)));
      return g.map((p) => g.map((q) => p.reduce((acc, x, c) => acc + x * q[c], 0)));
    };
    let sum = 0;
    for (let b = 0; b < 2; b++) {
      for (let k = 0; k < 2; k++) {
        if (!valid[b * 2 + k]) continue;
        const rs = gram(hs[b].slice(k * 9, k * 9 + 9));
        const rt = gram(ht[b].slice(k * 9, k * 9 + 9));
        for (let i = 0; i < 9; i++) for (let j = 0; j < 9; j++) sum += Math.abs(rs[i][j] - rt[i][j]) / 81;
      }
    }
    const r = relationMatrices(s);
    expect(r.shape).toEqual([2, 2, 9, 9]);
    expect(value(relationLoss(s, t, valid, 3))).toBeCloseTo(sum / 3, 5);
    tf.dispose([s, t, r]);
  });
});

describe('responseLoss', () => {
  it('class-max heat maps (teacher at T = 2) and regression inside the Gaussian mask, by hand', () => {
    const ln3 = Math.log(3);
    // Student σ: cell 0 (0.5, 0.75) → 0.75, cell 1 (0.25, 0.5) → 0.5.
    const heatS = tf.tensor4d([0, ln3, -ln3, 0], [1, 1, 2, 2]);
    // Teacher σ(z/2): cell 0 (0.75, 0.5) → 0.75, cell 1 (0.25, 0.25) → 0.25.
    const heatT = tf.tensor4d([2 * ln3, 0, -2 * ln3, -2 * ln3], [1, 1, 2, 2]);
    const regS = tf.tensor4d([1, 2, 0, 0], [1, 1, 2, 2]);
    const regT = tf.tensor4d([0, 0, 1, 3], [1, 1, 2, 2]);
    const mask = Float32Array.from([1, 0.5]);
    const r = responseLoss(heatS, heatT, regS, regT, mask, 2);
    expect(value(r.cls)).toBeCloseTo((1 * 0 + 0.5 * 0.25) / 1.5, 6);
    expect(value(r.reg)).toBeCloseTo((1 * 1.5 + 0.5 * 2) / 1.5, 6);
    tf.dispose([heatS, heatT, regS, regT]);
  });

  it('the heat map is clamped to [1e-4, 1 − 1e-4] before the difference', () => {
    const heatS = tf.tensor4d([30], [1, 1, 1, 1]);
    const heatT = tf.tensor4d([-30], [1, 1, 1, 1]);
    const reg = tf.zeros([1, 1, 1, 2]);
    const r = responseLoss(heatS, heatT, reg, reg, Float32Array.from([1]), 1);
    expect(value(r.cls)).toBeCloseTo(1 - 2e-4, 6);
    value(r.reg);
    tf.dispose([heatS, heatT, reg]);
  });
});

describe('stopGradient', () => {
  it('passes the value and no gradient', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const y = stopGradient(x);
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.add(tf.mul(stopGradient(v), v), v)))(x);
    // d/dv [sg(v)·v + v] = sg(v) + 1.
    expect(Array.from(g.dataSync())).toEqual([2, 3, 4]);
    tf.dispose([x, y, g]);
  });
});
