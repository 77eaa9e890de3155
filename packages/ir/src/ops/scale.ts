import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { sizeOf } from '../graph';
import { defineUnaryOp } from './unary-op';

export const scaleAttrs = z.strictObject({
  /** The constant multiplier. */
  factor: z.number().refine(Number.isFinite, 'factor must be a finite number'),
});
export type ScaleAttrs = z.infer<typeof scaleAttrs>;

/**
 * Multiplies by a constant (loss weights, residual scaling in adapters); ONNX `Mul` by a scalar
 * initializer.
 *
 * @example
 * const half = b.op('scale', [loss], { factor: 0.5 });
 */
export const scaleOp = defineUnaryOp<ScaleAttrs>({
  name: 'scale',
  // The factor may be negative.
  sign: 'any',
  macs: (x) => sizeOf(x.shape),
  attrs: scaleAttrs,
  fn: (x, a) => tf.mul(x, a.factor),
  onnx(emit, x, y, a) {
    emit.add('Mul', [x, emit.constant([a.factor], [], 'float32', 'factor')], [y]);
  },
});

declare module './op' {
  interface OpAttrs {
    scale: z.input<typeof scaleAttrs>;
  }
}
