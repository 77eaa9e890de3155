import * as tf from '@tensorflow/tfjs';
import { defineUnaryOp } from './unary-op';

/**
 * max(x, 0) element-wise; ONNX `Relu`. The gradient at exactly 0 is 0, as in tfjs and PyTorch.
 *
 * @example
 * const y = b.op('relu', [conv]);
 */
export const reluOp = defineUnaryOp({
  name: 'relu',
  sign: 'nonNegative',
  fn: (x) => tf.relu(x),
  onnx: (emit, x, y) => emit.add('Relu', [x], [y]),
});

declare module './op' {
  interface OpAttrs {
    relu: Record<string, never>;
  }
}
