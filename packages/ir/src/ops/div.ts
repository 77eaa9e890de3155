import * as tf from '@tensorflow/tfjs';
import { defineBinaryOp } from './binary-op';

/**
 * Element-wise quotient a / b of float32 tensors with numpy broadcasting; ONNX `Div`.
 *
 * @example
 * const y = b.op('div', [x, other]); // [-1, 8, 8, 16] with [16] → [-1, 8, 8, 16]
 */
export const divOp = defineBinaryOp('div', (a, b) => tf.div(a, b), 'Div', { floatOnly: true, sign: 'any', multiplies: true });

declare module './op' {
  interface OpAttrs {
    div: Record<string, never>;
  }
}
