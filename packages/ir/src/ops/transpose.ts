import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { defineOp, noMacs } from './op';

export const transposeAttrs = z.strictObject({
  /** Output axis i is input axis perm[i]. */
  perm: z.array(z.number().int().min(0)),
});
export type TransposeAttrs = z.infer<typeof transposeAttrs>;

/**
 * Permutes axes: output axis i is input axis perm[i]. ONNX `Transpose`.
 *
 * @example
 * const tokens = b.op('transpose', [x], { perm: [0, 2, 1] }); // [-1, C, L] → [-1, L, C]
 */
export const transposeOp = defineOp<TransposeAttrs>({
  name: 'transpose',
  inputs: ['x'],
  attrs: transposeAttrs,
  channels: { kind: 'opaque' },
  sign: 'preserves',
  macs: noMacs,
  differentiable: true,
  weight: null,
  infer([x], a) {
    if (!x) throw new Error('transpose needs an input');
    const rank = x.shape.length;
    const sorted = [...a.perm].sort((p, q) => p - q);
    if (a.perm.length !== rank || sorted.some((p, i) => p !== i)) {
      throw new Error(`perm [${a.perm}] is not a permutation of the ${rank} axes of [${x.shape}]`);
    }
    return [{ shape: a.perm.map((p) => x.shape[p]), dtype: x.dtype }];
  },
  forward([x], a) {
    return [tf.transpose(x!, a.perm)];
  },
  onnx(emit, a) {
    emit.add('Transpose', [emit.input(0)], [emit.output(0)], { perm: a.perm });
  },
});

declare module './op' {
  interface OpAttrs {
    transpose: z.input<typeof transposeAttrs>;
  }
}
