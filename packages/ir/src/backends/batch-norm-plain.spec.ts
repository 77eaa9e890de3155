import * as tf from '@tensorflow/tfjs';
import { batchNormPlain, batchNormTrain } from './batch-norm-plain';
import { initBackend } from './select-backend';
import { computeOn, relativeError, seededUniform } from './testing/compare-backends';

const C = 5;
const X_SHAPE = [2, 4, 3, C];

// Batch statistics are computed inside the graph so the gradient flows through them too,
// as in training-mode batch norm.
function normaliseAndGrad(): tf.Tensor[] {
  const x = tf.tensor(seededUniform(2 * 4 * 3 * C, 11), X_SHAPE);
  const gamma = tf.tensor1d(seededUniform(C, 12));
  const beta = tf.tensor1d(seededUniform(C, 13));
  const weight = tf.tensor(seededUniform(2 * 4 * 3 * C, 14), X_SHAPE);
  const f = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(xi, [0, 1, 2]);
    return tf.sum(tf.mul(batchNormPlain(xi, mean, variance, g, b, 1e-3), weight));
  };
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const y = batchNormPlain(x, mean, variance, gamma, beta, 1e-3);
  const reference = tf.batchNorm(x, mean, variance, beta, gamma, 1e-3);
  return [y, reference, ...tf.grads(f)([x, gamma, beta])];
}

describe('batchNormPlain', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });

  it('matches tf.batchNorm and its gradients on wasm match the cpu backend within 1e-4', async () => {
    const cpu = await computeOn('cpu', normaliseAndGrad);
    const wasm = await computeOn('wasm', normaliseAndGrad);
    expect(relativeError(wasm.values[0], wasm.values[1])).toBeLessThan(1e-5);
    for (let i = 0; i < cpu.values.length; i++) {
      expect(wasm.shapes[i]).toEqual(cpu.shapes[i]);
      expect(relativeError(wasm.values[i], cpu.values[i])).toBeLessThan(1e-4);
    }
    // The gradient must not be trivially zero for the comparison to mean something.
    expect(Math.max(...cpu.values[2].map(Math.abs))).toBeGreaterThan(1e-3);
  });

  it('treats missing gamma and beta as 1 and 0, checked against a hand-computed case', () => {
    const y = batchNormPlain(tf.tensor1d([1, 3]), tf.scalar(2), tf.scalar(4), undefined, undefined, 0);
    expect(Array.from(y.dataSync())).toEqual([-0.5, 0.5]);
    y.dispose();
  });

  it('leaks no tensors across repeated calls', async () => {
    await tf.setBackend('wasm');
    tf.dispose(tf.tidy(normaliseAndGrad));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(tf.tidy(normaliseAndGrad));
    expect(tf.memory().numTensors).toBe(before);
  });

});

// The closed-form gradient against autodiff through tf.moments and batchNormPlain, on a rank-3 and
// a pillar-like rank-4 input with a leading-axis size that takes the wasm fast-path reductions.
function trainVsAutodiff(shape: number[]) {
  return (): tf.Tensor[] => {
    const c = shape[shape.length - 1];
    const size = tf.util.sizeFromShape(shape);
    const axes = Array.from({ length: shape.length - 1 }, (_, i) => i);
    // Off-centre input, so the mean and variance terms of the gradient matter.
    const x = tf.add(tf.mul(tf.tensor(seededUniform(size, 21), shape), 3), 0.7);
    const gamma = tf.tensor1d(seededUniform(c, 22));
    const beta = tf.tensor1d(seededUniform(c, 23));
    const weight = tf.tensor(seededUniform(size, 24), shape);
    const reference = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(xi, axes);
      return tf.sum(tf.mul(batchNormPlain(xi, mean, variance, g, b, 1e-3), weight));
    };
    const fused = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { y, mean, variance } = batchNormTrain(xi, g, b, 1e-3);
      tf.dispose([mean, variance]);
      return tf.sum(tf.mul(y, weight));
    };
    const { y, mean, variance } = batchNormTrain(x, gamma, beta, 1e-3);
    const moments = tf.moments(x, axes);
    return [
      y,
      batchNormPlain(x, moments.mean, moments.variance, gamma, beta, 1e-3),
      mean,
      moments.mean,
      variance,
      moments.variance,
      ...tf.grads(fused)([x, gamma, beta]),
      ...tf.grads(reference)([x, gamma, beta]),
    ];
  };
}

describe('batchNormTrain', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });

  it.each([
    ['rank 3 [6, 7, 5]', [6, 7, 5]],
    ['pillar-like [2, 96, 12, 8]', [2, 96, 12, 8]],
  ])('values, statistics and gradients match autodiff on cpu, and wasm matches cpu: %s', async (_name, shape) => {
    for (const backend of ['cpu', 'wasm']) {
      const r = await computeOn(backend, trainVsAutodiff(shape));
      // pairs: y, mean, variance; then dx, dγ, dβ (fused) against dx, dγ, dβ (autodiff)
      for (const [a, b] of [[0, 1], [2, 3], [4, 5], [6, 9], [7, 10], [8, 11]]) {
        expect(r.shapes[a]).toEqual(r.shapes[b]);
        expect(relativeError(r.values[a], r.values[b])).toBeLessThan(1e-4);
      }
      expect(Math.max(...r.values[6].map(Math.abs))).toBeGreaterThan(1e-3);
    }
    const cpu = await computeOn('cpu', trainVsAutodiff(shape));
    const wasm = await computeOn('wasm', trainVsAutodiff(shape));
    for (let i = 0; i < 9; i++) expect(relativeError(wasm.values[i], cpu.values[i])).toBeLessThan(1e-4);
  });

  it('matches a hand-computed case: x = [1, 3], γ = 2, β = 1, ε = 0', () => {
    const x = tf.tensor2d([[1], [3]]);
    const dy = tf.tensor2d([[1], [0]]);
    const [dx, dGamma, dBeta] = tf.grads((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { y, mean, variance } = batchNormTrain(xi, g, b, 0);
      expect(Array.from(y.dataSync())).toEqual([-1, 3]);
      expect(Array.from(mean.dataSync())).toEqual([2]);
      expect(Array.from(variance.dataSync())).toEqual([1]);
      tf.dispose([mean, variance]);
      return tf.sum(tf.mul(y, dy));
    })([x, tf.tensor1d([2]), tf.tensor1d([1])]);
    // xhat = [-1, 1]; dβ = 1, dγ = -1; dx = γ/σ·(dy − mean(dy) − xhat·mean(dy·xhat)) = 2·([0.5, -0.5] − [0.5, -0.5]) = 0
    expect(Array.from(dBeta.dataSync())).toEqual([1]);
    expect(Array.from(dGamma.dataSync())).toEqual([-1]);
    expect(Array.from(dx.dataSync())).toEqual([0, 0]);
    tf.dispose([x, dy, dx, dGamma, dBeta]);
  });

  it('leaks no tensors across repeated calls', async () => {
    await tf.setBackend('wasm');
    const step = trainVsAutodiff([4, 64, 3]);
    tf.dispose(tf.tidy(step));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(tf.tidy(step));
    expect(tf.memory().numTensors).toBe(before);
  });
});
