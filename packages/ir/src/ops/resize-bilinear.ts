import type { z } from 'zod';
import { defineOp, noMacs } from './op';
import { emitResize, inferResize, resizeAttrs, resizeForward, type ResizeAttrs } from './resize-common';

/**
 * Bilinear resize of NHWC `x` by `scale` or to `size`. `coordinateTransform` follows ONNX Resize:
 * 'half_pixel' (default; PyTorch align_corners=False), 'align_corners' or 'asymmetric'. The
 * gradient is written out (transposed interpolation matrices), so non-square maps train on cpu.
 *
 * @example
 * b.op('resize_bilinear', [x], { scale: 2 }) // [B, 2H, 2W, C]
 */
export const resizeBilinear = defineOp<ResizeAttrs>({
  name: 'resize_bilinear',
  inputs: ['x'],
  attrs: resizeAttrs,
  channels: { kind: 'through' },
  sign: 'preserves',
  macs: noMacs,
  differentiable: true,
  weight: null,
  infer: inferResize,
  forward: ([x], a) => [resizeForward(x!, a, 'bilinear')],
  onnx: (emit, a) => emitResize(emit, a, 'bilinear'),
});

declare module './op' {
  interface OpAttrs {
    resize_bilinear: z.input<typeof resizeAttrs>;
  }
}
