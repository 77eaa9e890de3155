import * as tf from '@tensorflow/tfjs';
import { checkGradients, expectNoLeak, randomTensor } from '@bevzip/ir/testing';
import { bevDistillLoss, imageDistillLoss, vgdLoss, type SoftmaxAxis } from './vgd-loss';

/** float64 softmax-KL of [B, P, C] arrays along `axis`, returned elementwise. */
function klRef(t: Float32Array, s: Float32Array, [b, p, c]: number[], tau: number, axis: SoftmaxAxis): Float64Array {
  const out = new Float64Array(t.length);
  const idx = (i: number, j: number, k: number) => (i * p + j) * c + k;
  const groups: number[][] = [];
  for (let i = 0; i < b; i++) {
    if (axis === 'spatial') for (let k = 0; k < c; k++) groups.push(Array.from({ length: p }, (_, j) => idx(i, j, k)));
    else for (let j = 0; j < p; j++) groups.push(Array.from({ length: c }, (_, k) => idx(i, j, k)));
  }
  for (const g of groups) {
    const lse = (x: Float32Array) => {
      const m = Math.max(...g.map((n) => x[n] / tau));
      return m + Math.log(g.reduce((a, n) => a + Math.exp(x[n] / tau - m), 0));
    };
    const [lt, ls] = [lse(t), lse(s)];
    for (const n of g) {
      const logT = t[n] / tau - lt;
      out[n] = Math.exp(logT) * (logT - (s[n] / tau - ls));
    }
  }
  return out;
}

describe('view-guided distillation loss', () => {
  const B = 2;
  const N = 3;
  const img = { t: randomTensor([B * N, 2, 3, 4], 1), s: randomTensor([B * N, 2, 3, 4], 2) };
  const bev = { t: randomTensor([B, 2, 2, 5], 3), s: randomTensor([B, 2, 2, 5], 4) };
  const mask = tf.tensor2d([1, 0, 0.5, 0, 0, 1, 1, 0, 0.25, 0.25, 0, 1], [N, 4]);

  for (const axis of ['spatial', 'channel'] as const) {
    for (const tau of [1, 2.5]) {
      it(`matches a float64 reference of Eq. 3–6 (${axis} softmax, τ = ${tau})`, () => {
        const o = { temperature: tau, axis };
        const kImg = klRef(img.t.dataSync() as Float32Array, img.s.dataSync() as Float32Array, [B * N, 6, 4], tau, axis);
        const kBev = klRef(bev.t.dataSync() as Float32Array, bev.s.dataSync() as Float32Array, [B, 4, 5], tau, axis);
        const lImg = Array.from({ length: B * N }, (_, bn) => (tau * tau * kImg.slice(bn * 24, (bn + 1) * 24).reduce((a, v) => a + v, 0)) / 24);
        const lBev = Array.from({ length: B * 4 }, (_, bp) => (tau * tau * kBev.slice(bp * 5, (bp + 1) * 5).reduce((a, v) => a + v, 0)) / 5);
        const m = mask.dataSync();
        let want = 0;
        for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) for (let p = 0; p < 4; p++) want += lImg[b * N + n] * m[n * 4 + p] * lBev[b * 4 + p];
        want /= B;
        const gotImg = imageDistillLoss(img.t, img.s, N, o).dataSync();
        lImg.forEach((v, i) => expect(gotImg[i]).toBeCloseTo(v, 6));
        const gotBev = bevDistillLoss(bev.t, bev.s, o).dataSync();
        lBev.forEach((v, i) => expect(gotBev[i]).toBeCloseTo(v, 6));
        const got = vgdLoss({ teacherImg: img.t, studentImg: img.s, teacherBev: bev.t, studentBev: bev.s }, mask, o).dataSync()[0];
        expect(Math.abs(got - want)).toBeLessThan(1e-6 * Math.max(1, Math.abs(want)));
        expect(want).toBeGreaterThan(0);
      });
    }
  }

  it('is zero when the student equals the teacher, and zero where the mask is zero', () => {
    const o = { temperature: 2, axis: 'spatial' as const };
    expect(vgdLoss({ teacherImg: img.t, studentImg: img.t, teacherBev: bev.t, studentBev: bev.s }, mask, o).dataSync()[0]).toBeCloseTo(0, 7);
    expect(vgdLoss({ teacherImg: img.t, studentImg: img.s, teacherBev: bev.t, studentBev: bev.s }, tf.zeros([N, 4]) as tf.Tensor2D, o).dataSync()[0]).toBe(0);
  });

  it('has gradients w.r.t. the student features that match finite differences', () => {
    const o = { temperature: 1.5, axis: 'channel' as const };
    const sImg = randomTensor([N, 2, 2, 3], 5, 2);
    const sBev = randomTensor([1, 2, 2, 3], 6, 2);
    const tImg = randomTensor([N, 2, 2, 3], 7);
    const tBev = randomTensor([1, 2, 2, 3], 8);
    // Scaled so the gradients are O(1) and the relative tolerance of checkGradients bites.
    const scaled = (si: tf.Tensor, sb: tf.Tensor) => tf.mul(vgdLoss({ teacherImg: tImg, studentImg: si, teacherBev: tBev, studentBev: sb }, mask, o), 1000) as tf.Scalar;
    const g = tf.grads(scaled)([sImg, sBev]);
    expect(Math.max(...g.map((t) => tf.max(tf.abs(t)).dataSync()[0]))).toBeGreaterThan(0.1);
    checkGradients(scaled, [sImg, sBev], { eps: 1e-2, tol: 3e-2 });
  });

  it('names the mismatch when the BEV feature does not fit the mask, and leaks nothing', () => {
    const o = { temperature: 1, axis: 'spatial' as const };
    expect(() => vgdLoss({ teacherImg: img.t, studentImg: img.s, teacherBev: bev.t, studentBev: bev.s }, tf.ones([N, 9]) as tf.Tensor2D, o)).toThrow(/BEV loss \[2,4\] does not match 2 samples × the view mask's 9 cells/);
    expectNoLeak(() => vgdLoss({ teacherImg: img.t, studentImg: img.s, teacherBev: bev.t, studentBev: bev.s }, mask, o).dispose());
  });
});
