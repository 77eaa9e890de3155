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

/** Output of {@link batchNormTrain}: the normalised tensor and the batch statistics it used. */
export interface BatchNormTrainResult<T extends tf.Tensor> {
  y: T;
  /** Batch mean and biased variance per channel [C]; the caller owns (and disposes) them. */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * Training-mode batch norm over every axis but the last, with its gradient written out in closed
 * form: with xc = x − μ, r = rsqrt(σ² + ε), s = γ·r and N values per channel,
 * dβ = Σdy, dγ = r·Σ(dy·xc), dx = s·dy − xc·(s·r²·Σ(dy·xc)/N) − s·dβ/N.
 * Autodiff through `tf.moments` and {@link batchNormPlain} gives the same values with about twice the
 * full-size kernels (the gradients of two means, a squared difference and three broadcasts); on
 * the [2, 3072, 12, 32] pillar features each of those is a millisecond or more on wasm.
 * The statistics are not differentiable outputs (their effect on y is in dx already).
 *
 * @example
 * const { y, mean, variance } = batchNormTrain(x, gamma, beta, 1e-5); // update running stats, then dispose mean, variance
 */
export function batchNormTrain<T extends tf.Tensor>(x: T, gamma: tf.Tensor, beta: tf.Tensor, eps = 1e-5): BatchNormTrainResult<T> {
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const n = x.size / x.shape[x.rank - 1];
  let stats: tf.Tensor1D[] = [];
  const forward = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, g, b, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const mean = tf.mean(xx, axes) as tf.Tensor1D;
    const xc = tf.sub(xx, mean);
    const variance = tf.mean(tf.square(xc), axes) as tf.Tensor1D;
    const r = tf.rsqrt(tf.add(variance, eps));
    const s = tf.mul(g, r);
    // Kept past the kernel's tidy for the caller, who disposes them.
    stats = [tf.keep(mean), tf.keep(variance)];
    save([xc, r, s]);
    return {
      value: tf.add(tf.mul(xc, s), b),
      gradFunc: (dy: tf.Tensor, [sxc, sr, ss]: tf.Tensor[]) => {
        const dBeta = tf.sum(dy, axes);
        const dyXc = tf.sum(tf.mul(dy, sxc), axes);
        const k = tf.mul(ss, tf.mul(tf.square(sr), tf.div(dyXc, n)));
        const shift = tf.div(tf.mul(ss, dBeta), n);
        const dx = tf.sub(tf.mul(dy, ss), tf.add(tf.mul(sxc, k), shift));
        return [dx, tf.mul(sr, dyXc), dBeta];
      },
    };
  });
  const y = forward(x, gamma, beta) as T;
  const [mean, variance] = stats;
  return { y, mean, variance };
}
