import * as tf from '@tensorflow/tfjs';
import { defineBinaryOp } from './binary-op';

/**
 * Element-wise sum a + b with numpy broadcasting; ONNX `Add`.
 *
 * @example
 * const y = b.op('add', [x, other]); // [-1, 8, 8, 16] with [16] → [-1, 8, 8, 16]
 */
export const addOp = defineBinaryOp('add', (a, b) => tf.add(a, b), 'Add', { sign: 'preserves' });

declare module './op' {
  interface OpAttrs {
    add: Record<string, never>;
  }
}
