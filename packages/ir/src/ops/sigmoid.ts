import * as tf from '@tensorflow/tfjs';
import { defineUnaryOp } from './unary-op';

/**
 * 1 / (1 + e^−x) element-wise; ONNX `Sigmoid`. Heatmap heads and SE gates use it.
 *
 * @example
 * const gate = b.op('sigmoid', [logits]);
 */
export const sigmoidOp = defineUnaryOp({
  name: 'sigmoid',
  sign: 'nonNegative',
  fn: (x) => tf.sigmoid(x),
  onnx: (emit, x, y) => emit.add('Sigmoid', [x], [y]),
});

declare module './op' {
  interface OpAttrs {
    sigmoid: Record<string, never>;
  }
}
