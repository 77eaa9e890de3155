import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { defineOp, noMacs, pair } from './op';
import { emitPool, inferPool, padSpatial, poolAttrs } from './pool-common';

export const avgPool2dAttrs = poolAttrs.extend({
  /**
   * Whether padded cells count in the divisor. false (default) averages over the real cells only,
   * as TensorFlow's 'same' pooling does; true is PyTorch's default count_include_pad. Exported as
   * ONNX AveragePool count_include_pad.
   */
  countIncludePad: z.boolean().default(false),
});
export type AvgPool2dAttrs = z.infer<typeof avgPool2dAttrs>;

/**
 * NHWC 2-D average pooling with 'same' / 'valid' / explicit padding.
 *
 * @example
 * b.op('avg_pool2d', [x], { kernel: 2, strides: 2 }) // [B, H/2, W/2, C]
 */
export const avgPool2d = defineOp<AvgPool2dAttrs>({
  name: 'avg_pool2d',
  inputs: ['x'],
  attrs: avgPool2dAttrs,
  channels: { kind: 'through' },
  sign: 'preserves',
  macs: noMacs,
  differentiable: true,
  weight: null,
  infer: inferPool,
  forward([x], a) {
    const [k, s] = [pair(a.kernel), pair(a.strides)];
    const padded = padSpatial(x!, a, 0);
    const mean = tf.avgPool(padded, k, s, 'valid');
    if (a.countIncludePad || padded === x) return [mean];
    // The share of real cells in each window, from a padded map of ones: a constant of the shape.
    const ones = tf.ones([1, x!.shape[1]!, x!.shape[2]!, 1]);
    return [tf.div(mean, tf.avgPool(padSpatial(ones, a, 0), k, s, 'valid'))];
  },
  onnx: (emit, a) => emitPool(emit, 'AveragePool', a, { count_include_pad: a.countIncludePad ? 1 : 0 }),
});

declare module './op' {
  interface OpAttrs {
    avg_pool2d: z.input<typeof avgPool2dAttrs>;
  }
}
