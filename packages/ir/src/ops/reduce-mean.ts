import type { z } from 'zod';
import { defineReduceOp, tfReduce, type reduceAttrs } from './reduce';

/**
 * Mean over `axes` (all when omitted), optionally keeping them as size 1; ONNX `ReduceMean`.
 *
 * @example
 * const squeezed = b.op('reduce_mean', [x], { axes: [1, 2], keepDims: true }); // SE block: [-1, H, W, C] → [-1, 1, 1, C]
 */
export const reduceMeanOp = defineReduceOp('reduce_mean', tfReduce.mean, 'ReduceMean');

declare module './op' {
  interface OpAttrs {
    reduce_mean: z.input<typeof reduceAttrs>;
  }
}
