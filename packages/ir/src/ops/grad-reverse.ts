import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { BevzipError, ERROR_CODES, nodeLabel } from '../errors';
import { withCustomGrad } from './custom-grad';
import type { OpContext } from './op';
import { defineUnaryOp } from './unary-op';

const finite = (what: string) => [Number.isFinite, `${what} must be a finite number`] as const;

export const gradReverseAttrs = z.strictObject({
  /** λ ≥ 0 (with `schedule: 'dann'`, the value the ramp approaches): the backward pass multiplies the incoming gradient by −λ. */
  lambda: z.number().min(0).refine(...finite('lambda')).default(1),
  /**
   * How λ follows the stage's training progress p ∈ [0, 1] (`RunOptions.progress`): `constant` uses
   * `lambda` at every step; `dann` ramps it as λ·(2/(1 + exp(−γ·p)) − 1) (Ganin & Lempitsky 2015), from 0
   * at p = 0, so a freshly initialised discriminator's gradients barely reach the layers before it.
   */
  schedule: z.enum(['constant', 'dann']).default('constant'),
  /** γ of the `dann` ramp (the paper's 10). */
  gamma: z.number().positive().refine(...finite('gamma')).default(10),
});
export type GradReverseAttrs = z.infer<typeof gradReverseAttrs>;

/** The `dann` ramp 2/(1 + exp(−γ·p)) − 1 ∈ [0, 1) at progress p ∈ [0, 1] (written as tanh(γp/2), the same value without the cancellation near p = 0). */
export function dannRamp(progress: number, gamma: number): number {
  return Math.tanh((gamma * progress) / 2);
}

/** The λ a `grad_reverse` node applies at a given progress (undefined: the caller gave none). */
export function gradReverseLambda(attrs: GradReverseAttrs, progress: number | undefined, where = 'grad_reverse'): number {
  if (attrs.schedule === 'constant') return attrs.lambda;
  if (progress === undefined) {
    throw new BevzipError(ERROR_CODES.CONFIG, `${where}: schedule '${attrs.schedule}' needs the training progress; run the graph with RunOptions.progress ∈ [0, 1] (the pipeline passes step / steps on every step)`);
  }
  return attrs.lambda * dannRamp(progress, attrs.gamma);
}

/**
 * Gradient reversal (Ganin & Lempitsky): identity forward, −λ·dy backward, so one backward pass trains
 * a discriminator behind it to separate domains and everything before it to confuse that discriminator.
 * λ is constant or follows the run's progress (`schedule`), read at each run, so one graph serves
 * every step. Only meaningful in training graphs (tag it train-only); ONNX `Identity`.
 *
 * @example
 * const reversed = b.op('grad_reverse', [bev], { lambda: 1, schedule: 'dann', gamma: 10 });
 */
export const gradReverseOp = defineUnaryOp<GradReverseAttrs>({
  name: 'grad_reverse',
  // The forward pass is the identity, so the sign of the input carries over.
  sign: 'preserves',
  attrs: gradReverseAttrs as unknown as z.ZodType<GradReverseAttrs>,
  fn: (x, a, ctx: OpContext) => {
    const { progress, node } = ctx;
    return withCustomGrad([x], ([v]) => ({
      value: tf.clone(v),
      // λ is read in the backward only: the forward is the identity whatever the progress, so eval
      // passes and ONNX parity need none, and a gradient taken without one fails here, by name.
      gradFunc: (dy) => tf.mul(dy, -gradReverseLambda(a, progress, nodeLabel(node))),
    }));
  },
  onnx: (emit, x, y) => emit.add('Identity', [x], [y]),
});

declare module './op' {
  interface OpAttrs {
    grad_reverse: z.input<typeof gradReverseAttrs>;
  }
}
