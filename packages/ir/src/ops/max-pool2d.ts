import type { z } from 'zod';
import { maxPoolValid } from './max-pool2d.grad';
import { defineOp, noMacs, pair } from './op';
import { emitPool, inferPool, padSpatial, poolAttrs, type PoolAttrs } from './pool-common';

/** Fills padding so it never wins a window; finite so that masks built from it stay NaN-free. */
const PAD_FILL = -3.4e38;

/**
 * NHWC 2-D max pooling. `pad` is 'same' (SAME_UPPER), 'valid', a number or [top, bottom, left,
 * right]; padded cells never win (ONNX MaxPool semantics). The gradient goes to the first maximum
 * of each window.
 *
 * @example
 * b.op('max_pool2d', [heatmap], { kernel: 3, strides: 1, pad: 'same' }) // peak finding
 */
export const maxPool2d = defineOp<PoolAttrs>({
  name: 'max_pool2d',
  inputs: ['x'],
  attrs: poolAttrs,
  channels: { kind: 'through' },
  sign: 'preserves',
  macs: noMacs,
  differentiable: true,
  weight: null,
  infer: inferPool,
  forward([x], a) {
    return [maxPoolValid(padSpatial(x!, a, PAD_FILL), pair(a.kernel), pair(a.strides))];
  },
  onnx: (emit, a) => emitPool(emit, 'MaxPool', a),
});

declare module './op' {
  interface OpAttrs {
    max_pool2d: z.input<typeof poolAttrs>;
  }
}
