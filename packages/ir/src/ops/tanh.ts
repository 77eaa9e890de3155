import * as tf from '@tensorflow/tfjs';
import { defineUnaryOp } from './unary-op';

/**
 * Hyperbolic tangent element-wise; ONNX `Tanh`.
 *
 * @example
 * const y = b.op('tanh', [x]);
 */
export const tanhOp = defineUnaryOp({
  name: 'tanh',
  sign: 'any',
  fn: (x) => tf.tanh(x),
  onnx: (emit, x, y) => emit.add('Tanh', [x], [y]),
});

declare module './op' {
  interface OpAttrs {
    tanh: Record<string, never>;
  }
}
