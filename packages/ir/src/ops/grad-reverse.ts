import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { withCustomGrad } from './custom-grad';
import { defineUnaryOp } from './unary-op';

export const gradReverseAttrs = z.strictObject({
  /** λ ≥ 0: the backward pass multiplies the incoming gradient by −λ. */
  lambda: z.number().min(0).refine(Number.isFinite, 'lambda must be a finite number').default(1),
});
export type GradReverseAttrs = z.infer<typeof gradReverseAttrs>;

/**
 * Gradient reversal (Ganin & Lempitsky): identity forward, −λ·dy backward, so one backward pass trains
 * a discriminator behind it to separate domains and everything before it to confuse that discriminator.
 * Only meaningful in training graphs (tag it train-only); ONNX `Identity`.
 *
 * @example
 * const reversed = b.op('grad_reverse', [bev], { lambda: 0.1 });
 */
export const gradReverseOp = defineUnaryOp<GradReverseAttrs>({
  name: 'grad_reverse',
  // The forward pass is the identity, so the sign of the input carries over.
  sign: 'preserves',
  attrs: gradReverseAttrs as unknown as z.ZodType<GradReverseAttrs>,
  fn: (x, a) =>
    withCustomGrad([x], ([v]) => ({
      value: tf.clone(v),
      gradFunc: (dy) => tf.mul(dy, -a.lambda),
    })),
  onnx: (emit, x, y) => emit.add('Identity', [x], [y]),
});

declare module './op' {
  interface OpAttrs {
    grad_reverse: z.input<typeof gradReverseAttrs>;
  }
}
