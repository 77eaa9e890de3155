import * as tf from '@tensorflow/tfjs';
import { defineBinaryOp } from './binary-op';

/**
 * Element-wise difference a − b with numpy broadcasting; ONNX `Sub`.
 *
 * @example
 * const y = b.op('sub', [x, other]); // [-1, 8, 8, 16] with [16] → [-1, 8, 8, 16]
 */
export const subOp = defineBinaryOp('sub', (a, b) => tf.sub(a, b), 'Sub', { sign: 'any' });

declare module './op' {
  interface OpAttrs {
    sub: Record<string, never>;
  }
}
