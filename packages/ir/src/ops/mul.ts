import * as tf from '@tensorflow/tfjs';
import { defineBinaryOp } from './binary-op';

/**
 * Element-wise product a · b with numpy broadcasting; ONNX `Mul`.
 *
 * @example
 * const y = b.op('mul', [x, other]); // [-1, 8, 8, 16] with [16] → [-1, 8, 8, 16]
 */
export const mulOp = defineBinaryOp('mul', (a, b) => tf.mul(a, b), 'Mul', { sign: 'preserves', multiplies: true });

declare module './op' {
  interface OpAttrs {
    mul: Record<string, never>;
  }
}
