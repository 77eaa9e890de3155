import type { z } from 'zod';
import { defineReduceOp, tfReduce, type reduceAttrs } from './reduce';

/**
 * Sum over `axes` (all when omitted), optionally keeping them as size 1; ONNX `ReduceSum`.
 *
 * @example
 * const total = b.op('reduce_sum', [perPixelLoss], { axes: [1, 2, 3] }); // [-1, H, W, C] → [-1]
 */
export const reduceSumOp = defineReduceOp('reduce_sum', tfReduce.sum, 'ReduceSum');

declare module './op' {
  interface OpAttrs {
    reduce_sum: z.input<typeof reduceAttrs>;
  }
}
