import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { resolveAxis } from './axis';
import { defineOp, mergeDim, noMacs } from './op';

export const concatAttrs = z.strictObject({
  /** Axis to join along; the default -1 joins channels-last feature maps channel-wise. */
  axis: z.number().int().default(-1),
});
export type ConcatAttrs = z.infer<typeof concatAttrs>;

/**
 * Joins one or more tensors along `axis`; every other dimension must agree. ONNX `Concat`.
 *
 * @example
 * const fused = b.op('concat', [cameraBev, lidarBev], { axis: -1 }); // [-1, 180, 180, 80] + [-1, 180, 180, 256]
 */
export const concatOp = defineOp<ConcatAttrs>({
  name: 'concat',
  inputs: ['...xs'],
  attrs: concatAttrs,
  channels: (a) => ({ kind: 'concat', axis: a.axis }),
  sign: 'preserves',
  macs: noMacs,
  differentiable: true,
  weight: null,
  infer(xs, a) {
    if (xs.length === 0 || xs.some((x) => !x)) throw new Error('concat needs one or more inputs');
    const first = xs[0]!;
    const rank = first.shape.length;
    const axis = resolveAxis(a.axis, rank);
    const shape = [...first.shape];
    xs.slice(1).forEach((x, k) => {
      const s = x!.shape;
      if (s.length !== rank)
        throw new Error(
          `input ${k + 1} [${s}] has rank ${s.length}, input 0 [${first.shape}] has rank ${rank}`,
        );
      if (x!.dtype !== first.dtype)
        throw new Error(`input ${k + 1} is ${x!.dtype}, input 0 is ${first.dtype}`);
      s.forEach((d, i) => {
        if (i === axis) shape[i] = shape[i] === -1 || d === -1 ? -1 : shape[i] + d;
        else
          shape[i] = mergeDim(
            shape[i],
            d,
            `input ${k + 1} [${s}] differs from [${first.shape}] on axis ${i} (joining on axis ${axis})`,
          );
      });
    });
    return [{ shape, dtype: first.dtype }];
  },
  forward(xs, a) {
    const ts = xs as tf.Tensor[];
    return [ts.length === 1 ? tf.clone(ts[0]) : tf.concat(ts, resolveAxis(a.axis, ts[0].rank))];
  },
  onnx(emit, a) {
    const inputs = emit.node.inputs.map((_, i) => emit.input(i));
    emit.add('Concat', inputs, [emit.output(0)], { axis: a.axis });
  },
});

declare module './op' {
  interface OpAttrs {
    concat: z.input<typeof concatAttrs>;
  }
}
