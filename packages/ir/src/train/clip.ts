import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES } from '../errors';

/**
 * Global L2-norm clipping as `torch.nn.utils.clip_grad_norm_`: with N = √Σ‖g‖², every gradient is
 * scaled by min(1, maxNorm / (N + 1e-6)).
 *
 * The returned map holds **new** tensors the caller owns (clones when nothing was scaled); the
 * input tensors are left as they are. A non-finite norm is reported as is and the gradients are
 * returned unscaled, so the caller can decide to skip the step.
 */
export function clipGradNorm(grads: ReadonlyMap<string, tf.Tensor>, maxNorm: number): { grads: Map<string, tf.Tensor>; norm: number } {
  if (!(Number.isFinite(maxNorm) && maxNorm > 0)) throw new BevzipError(ERROR_CODES.CONFIG, `clipGradNorm: maxNorm must be a finite number > 0, got ${maxNorm}`);
  let sumSq = 0;
  // One read of all the per-tensor float32 sums (not one per tensor), added up in float64 as before.
  const sums = grads.size === 0 ? new Float32Array(0) : tf.tidy(() => tf.stack([...grads.values()].map((g) => tf.sum(tf.square(g)))).dataSync());
  for (const v of sums) sumSq += v;
  const norm = Math.sqrt(sumSq);
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  const out = new Map<string, tf.Tensor>();
  for (const [name, g] of grads) out.set(name, Number.isFinite(norm) && coef < 1 ? tf.tidy(() => tf.mul(g, coef)) : g.clone());
  return { grads: out, norm };
}
