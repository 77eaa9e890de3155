import type { z } from 'zod';
import { defineOp, noMacs } from './op';
import { emitResize, inferResize, resizeAttrs, resizeForward, type ResizeAttrs } from './resize-common';

/**
 * Nearest-neighbour resize of NHWC `x` by `scale` or to `size`. `coordinateTransform` follows ONNX
 * Resize: 'half_pixel' (default) and 'align_corners' round half up (ONNX nearest_mode
 * round_prefer_ceil, as tfjs does); 'asymmetric' floors (PyTorch mode='nearest').
 *
 * @example
 * b.op('resize_nearest', [x], { scale: 2 }) // [B, 2H, 2W, C]
 */
export const resizeNearest = defineOp<ResizeAttrs>({
  name: 'resize_nearest',
  inputs: ['x'],
  attrs: resizeAttrs,
  channels: { kind: 'through' },
  sign: 'preserves',
  macs: noMacs,
  differentiable: true,
  weight: null,
  infer: inferResize,
  forward: ([x], a) => [resizeForward(x!, a, 'nearest')],
  onnx: (emit, a) => emitResize(emit, a, 'nearest'),
});

declare module './op' {
  interface OpAttrs {
    resize_nearest: z.input<typeof resizeAttrs>;
  }
}
