import * as tf from '@tensorflow/tfjs';
import { expectNoLeak } from '@bevzip/ir/testing';
import { fakeQuant, fakeQuantPerChannel, intRange, quantizeCodes, quantScale, roundHalfEven } from './quantizer';

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('symmetric k-bit quantizer', () => {
  it('uses the signed range [−2^(k−1), 2^(k−1) − 1] and the unsigned range [0, 2^k − 1]', () => {
    expect(intRange(4, true)).toEqual({ qmin: -8, qmax: 7 });
    expect(intRange(6, false)).toEqual({ qmin: 0, qmax: 63 });
    expect(() => intRange(9, true)).toThrow(/bits must be an integer from 2 to 8, got 9/);
    expect(() => intRange(1, true)).toThrow(/got 1/);
  });

  it('sets S = 2·|r_max|/(2^k − 1) signed and |r_max|/(2^k − 1) unsigned, 1 for an all-zero range', () => {
    expect(quantScale(1.875, 4, true)).toBeCloseTo(0.25, 12);
    expect(quantScale(3.5, 3, false)).toBeCloseTo(0.5, 12);
    expect(quantScale(0, 8, true)).toBe(1);
  });

  it('rounds half to even and clamps to the integer range (4-bit signed, S = 0.25)', () => {
    const x = tf.tensor([0.125, 0.375, -0.625, 1.875, -1.875, 0.3, 5]);
    // x/S = 0.5→0, 1.5→2, −2.5→−2, 7.5→8→7, −7.5→−8, 1.2→1, 20→7
    expect(values(fakeQuant(x, 0.25, 4, true))).toEqual([0, 0.5, -0.5, 1.75, -2, 0.25, 1.75]);
  });

  it('clamps negatives to zero in the unsigned range (3-bit, S = 0.5)', () => {
    const x = tf.tensor([-1, 0.25, 0.75, 3.5, 10]);
    expect(values(fakeQuant(x, 0.5, 3, false))).toEqual([0, 0, 1, 3.5, 3.5]);
  });

  it('gives each output channel its own scale (2-bit, weight [in, out], axis 1)', () => {
    // channel 0: max 1.5 → S = 1: 0.3→0, −1.5→−2; channel 1: max 0.75 → S = 0.5: 1.5→2→1, 0.75→1
    const w = tf.tensor([[0.3, 0.75], [-1.5, 0.375]]);
    expect(values(fakeQuantPerChannel(w, 2, 1))).toEqual([0, 0.5, -2, 0.5]);
  });

  it('agrees with the float64 host reference on random data (8, 6 and 4 bits)', () => {
    const data = Float32Array.from({ length: 3 * 5 * 4 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 4)));
    for (const bits of [8, 6, 4]) {
      const w = tf.tensor(data, [3, 5, 4]);
      const got = fakeQuantPerChannel(w, bits, 2).dataSync();
      const scales = [0, 1, 2, 3].map((c) => quantScale(Math.max(...Array.from(data).filter((_, i) => i % 4 === c).map(Math.abs)), bits, true));
      const codes = quantizeCodes(data, [3, 5, 4], scales, 2, bits, true);
      codes.forEach((q, i) => expect(got[i]).toBeCloseTo(q * scales[i % 4], 5));
    }
  });

  it('host rounding is half to even like tf.round', () => {
    const xs = [-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 1.2, -1.7];
    expect(xs.map(roundHalfEven)).toEqual(values(tf.round(tf.tensor(xs))));
  });
});

describe('straight-through estimator', () => {
  it('passes dy unchanged inside the range and zero where the clamp saturates', () => {
    // 4-bit signed, S = 0.25: range covers x/S ∈ [−8.5, 7.5]
    const x = tf.tensor([0.1, -1.9, 1.875, 1.9, -2.2, 3]);
    const dy = tf.tensor([1, 2, 3, 4, 5, 6]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(fakeQuant(t, 0.25, 4, true), dy)))(x);
    expect(values(g)).toEqual([1, 2, 3, 0, 0, 0]);
  });

  it('treats per-channel scales as constants: d/dw Σ fq(w) is 1 everywhere, also at the channel maxima', () => {
    const w = tf.tensor([[0.3, -0.75], [-1.5, 0.375]]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(fakeQuantPerChannel(t, 4, 1)))(w);
    expect(values(g)).toEqual([1, 1, 1, 1]);
  });

  it('keeps the tensor count flat', () => {
    const w = tf.randomNormal([3, 3, 2, 4]);
    expectNoLeak(() => tf.grad((t: tf.Tensor) => tf.sum(fakeQuantPerChannel(t, 4, 3)))(w).dispose());
    w.dispose();
  });
});
