import * as tf from '@tensorflow/tfjs';
import { swapLastTwo } from './axis';
import { broadcastShapes } from './op';

/**
 * 2-D a·b whose forward and both gradients are flag-free matMuls (the transposes done by Transpose):
 * tfjs-wasm runs BatchMatMul through XNNPACK only without transpose flags, and tfjs's own gradient
 * sets them — 7–13× slower on a [2048, 256]·[256, 256] product.
 */
const matMul2d = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, [sa, sb]: tf.Tensor[]) => [
      tf.matMul(dy as tf.Tensor2D, tf.transpose(sb as tf.Tensor2D)),
      tf.matMul(tf.transpose(sa as tf.Tensor2D), dy as tf.Tensor2D),
    ],
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/**
 * Batched matrix product over the last two axes with broadcast batch axes, built from 2-D products
 * ({@link matMul2d}) so it stays on the fast wasm path in training. Batch axes are broadcast
 * explicitly: tfjs's implicit batch broadcasting returns too few values for rank-4 operands on the
 * cpu backend and its gradient does not sum over the broadcast axes.
 *
 * @example
 * const scores = matMulPlain(queries, keys, false, true); // [B, Q, D] · [B, K, D]ᵀ → [B, Q, K]
 */
export function matMulPlain(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  return tf.tidy(() => {
    const left = transposeA ? tf.transpose(a, swapLastTwo(a.rank)) : a;
    const right = transposeB ? tf.transpose(b, swapLastTwo(b.rank)) : b;
    if (left.rank === 2 && right.rank === 2) return matMul2d(left as tf.Tensor2D, right as tf.Tensor2D);
    const batch = broadcastShapes(left.shape.slice(0, -2), right.shape.slice(0, -2));
    const [m, k] = left.shape.slice(-2);
    const n = right.shape[right.rank - 1];
    const count = batch.reduce((p, q) => p * q, 1);
    const stackOf = (t: tf.Tensor, rows: number, cols: number) => {
      const target = [...batch, rows, cols];
      const full = target.join(',') === t.shape.join(',') ? t : tf.broadcastTo(t, target);
      return tf.unstack(full.reshape([count, rows, cols])) as tf.Tensor2D[];
    };
    const rightParts = stackOf(right, k, n);
    const products = stackOf(left, m, k).map((l, i) => matMul2d(l, rightParts[i]));
    return tf.stack(products).reshape([...batch, m, n]);
  });
}
