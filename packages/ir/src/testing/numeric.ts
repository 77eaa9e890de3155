import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';

/** A reproducible random float tensor with values in [-scale, scale). */
export function randomTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = scale * (2 * rng.next() - 1);
  return tf.tensor(data, shape);
}

/** max|a − b| / max(1, max|b|): absolute error for small values, relative for large ones. */
export function maxRelError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs ${expected.length}`);
  let diff = 0;
  let mag = 1;
  for (let i = 0; i < actual.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    mag = Math.max(mag, Math.abs(expected[i]));
  }
  return diff / mag;
}

/** Asserts two tensors (or arrays) agree within `tol` by {@link maxRelError}, with a readable failure. */
export function expectClose(actual: tf.Tensor | ArrayLike<number>, expected: tf.Tensor | ArrayLike<number>, tol = 1e-5): void {
  const a = actual instanceof tf.Tensor ? actual.dataSync() : actual;
  const e = expected instanceof tf.Tensor ? expected.dataSync() : expected;
  if (actual instanceof tf.Tensor && expected instanceof tf.Tensor && actual.shape.join(',') !== expected.shape.join(',')) {
    throw new Error(`shape [${actual.shape}] differs from expected [${expected.shape}]`);
  }
  const err = maxRelError(a, e);
  if (!(err <= tol)) throw new Error(`max relative error ${err.toExponential(3)} exceeds ${tol}`);
}

/**
 * Checks tf.grads of a scalar function against central finite differences on `samples` random
 * coordinates of each input (float64 in JS around float32 tfjs, so tolerances are ~1e-2).
 */
export function checkGradients(
  fn: (...xs: tf.Tensor[]) => tf.Scalar,
  inputs: tf.Tensor[],
  { eps = 1e-2, tol = 2e-2, samples = 12, seed = 7 } = {},
): number {
  const rng = new Rng(seed);
  const analytic = tf.tidy(() => tf.grads((...xs: tf.Tensor[]) => fn(...xs))(inputs).map((g) => g.dataSync()));
  let worst = 0;
  inputs.forEach((x, k) => {
    const base = x.dataSync().slice();
    for (let s = 0; s < Math.min(samples, base.length); s++) {
      const i = rng.int(base.length);
      const at = (delta: number) =>
        tf.tidy(() => {
          const moved = base.slice();
          moved[i] += delta;
          const xs = inputs.map((t, j) => (j === k ? tf.tensor(moved, x.shape) : t));
          return fn(...xs).dataSync()[0];
        });
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      const err = Math.abs(numeric - analytic[k][i]) / Math.max(1, Math.abs(numeric));
      worst = Math.max(worst, err);
    }
  });
  if (!(worst <= tol)) throw new Error(`gradient differs from finite differences by ${worst.toExponential(3)} (tol ${tol})`);
  return worst;
}

/** Runs `fn` `times` times and asserts the live tensor count does not grow. */
export function expectNoLeak(fn: () => void, times = 3): void {
  fn();
  const before = tf.memory().numTensors;
  for (let i = 0; i < times; i++) fn();
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`tensor count grew from ${before} to ${after} over ${times} calls`);
}
