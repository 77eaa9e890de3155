import * as tf from '@tensorflow/tfjs';

/**
 * Batch normalisation written as plain broadcasting ops,
 * `(x − mean) · (γ · rsqrt(variance + ε)) + β`.
 *
 * Same values as `tf.batchNorm`, but its gradient is built from `Sub`, `Mul`, `Rsqrt` and
 * `Sum`, avoiding tfjs-core's `FusedBatchNorm` gradient, whose `tile` calls are slow on wasm.
 * `mean`, `variance`, `gamma` and `beta` broadcast against `x` (typically shape [C] for NHWC).
 * `gamma` and `beta` may be omitted (1 and 0).
 *
 * @example
 * const y = batchNormPlain(x, tf.moments(x, [0, 1, 2]).mean, variance, gamma, beta, 1e-5);
 */
export function batchNormPlain<T extends tf.Tensor>(
  x: T,
  mean: tf.Tensor,
  variance: tf.Tensor,
  gamma?: tf.Tensor,
  beta?: tf.Tensor,
  eps = 1e-5,
): T {
  return tf.tidy(() => {
    let scale = tf.rsqrt(tf.add(variance, eps));
    if (gamma !== undefined) scale = tf.mul(gamma, scale);
    const y = tf.mul(tf.sub(x, mean), scale);
    return (beta !== undefined ? tf.add(y, beta) : y) as T;
  });
}
