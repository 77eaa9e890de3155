import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { resolveAxis } from './axis';
import { defineOp, noMacs } from './op';

export const softmaxAttrs = z.strictObject({
  /** The axis that sums to one; negative counts from the end. */
  axis: z.number().int().default(-1),
});
export type SoftmaxAttrs = z.infer<typeof softmaxAttrs>;

/**
 * e^x / Σ e^x along one axis; ONNX `Softmax` (opset ≥ 13 normalises along the single axis given).
 * tfjs's softmax only runs on the last axis, so other axes go through a stable log-sum-exp.
 *
 * @example
 * const depthProbs = b.op('softmax', [depthLogits], { axis: -1 });
 */
export const softmaxOp = defineOp<SoftmaxAttrs>({
  name: 'softmax',
  inputs: ['x'],
  attrs: softmaxAttrs,
  channels: { kind: 'opaque' },
  sign: 'nonNegative',
  macs: noMacs,
  differentiable: true,
  weight: null,
  infer([x], a) {
    if (!x) throw new Error('softmax needs an input');
    if (x.dtype !== 'float32') throw new Error(`softmax needs a float32 input, got ${x.dtype}`);
    resolveAxis(a.axis, x.shape.length);
    return [{ shape: [...x.shape], dtype: 'float32' }];
  },
  forward([x], a) {
    const t = x!;
    const axis = resolveAxis(a.axis, t.rank);
    if (axis === t.rank - 1) return [tf.softmax(t)];
    return [tf.exp(tf.sub(t, tf.logSumExp(t, axis, true)))];
  },
  onnx(emit, a) {
    if (emit.opset < 13)
      throw new Error('softmax needs opset 13 or later (earlier Softmax flattens the trailing axes)');
    emit.add('Softmax', [emit.input(0)], [emit.output(0)], { axis: a.axis });
  },
});

declare module './op' {
  interface OpAttrs {
    softmax: z.input<typeof softmaxAttrs>;
  }
}
