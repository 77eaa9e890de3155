import * as tf from '@tensorflow/tfjs';
import { batchNormPlain } from './batch-norm-plain';
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
