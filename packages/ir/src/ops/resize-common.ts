import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { TensorInfo } from '../graph';
import { emitChannelsFirst, type OnnxNodeEmitter } from '../onnx/emitter';
import { withCustomGrad } from './custom-grad';
import { pair } from './op';

/** ONNX Resize coordinate_transformation_mode names; half_pixel is PyTorch's align_corners=False. */
export const COORDINATE_TRANSFORMS = ['half_pixel', 'align_corners', 'asymmetric'] as const;
export type CoordinateTransform = (typeof COORDINATE_TRANSFORMS)[number];

export const resizeAttrs = z
  .object({
    /** Output = floor(input · scale) per axis; give this or `size`. */
    scale: z.union([z.number().positive(), z.array(z.number().positive()).length(2)]).optional(),
    /** Output [height, width]; give this or `scale`. */
    size: z.array(z.number().int().positive()).length(2).optional(),
    /** How an output pixel maps back to input coordinates, as ONNX Resize names it. */
    coordinateTransform: z.enum(COORDINATE_TRANSFORMS).default('half_pixel'),
  })
  .refine((a) => (a.scale === undefined) !== (a.size === undefined), { message: 'give exactly one of scale and size' });
export type ResizeAttrs = z.infer<typeof resizeAttrs>;

export type ResizeKind = 'bilinear' | 'nearest';

/** Output spatial size; -1 stays unknown. */
export function resizedSize(h: number, w: number, a: ResizeAttrs): [number, number] {
  if (a.size) return [a.size[0], a.size[1]];
  const [sh, sw] = pair(a.scale!);
  return [h === -1 ? -1 : Math.floor(h * sh), w === -1 ? -1 : Math.floor(w * sw)];
}

/** Shape inference shared by both resize ops. */
export function inferResize([x]: readonly (TensorInfo | undefined)[], a: ResizeAttrs): TensorInfo[] {
  if (!x) throw new Error('resize needs x');
  if (x.shape.length !== 4) throw new Error(`x must be NHWC (rank 4), got [${x.shape}]`);
  const [oh, ow] = resizedSize(x.shape[1], x.shape[2], a);
  if (oh === 0 || ow === 0) throw new Error(`scale ${JSON.stringify(a.scale)} gives an empty output for [${x.shape}]`);
  return [{ shape: [x.shape[0], oh, ow, x.shape[3]], dtype: 'float32' }];
}

/** The input coordinate an output index maps to (tfjs and ONNX agree on these formulas). */
function source(o: number, inSize: number, outSize: number, mode: CoordinateTransform): number {
  if (mode === 'align_corners') return outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0;
  if (mode === 'half_pixel') return ((o + 0.5) * inSize) / outSize - 0.5;
  return (o * inSize) / outSize;
}

/**
 * The [outSize, inSize] matrix of one axis of the resize, so that the op is `Mh · x · Mwᵀ`
 * per channel. Nearest rounds half up under half_pixel and align_corners (tfjs; ONNX
 * round_prefer_ceil) and floors under asymmetric; bilinear clamps to the border pixels.
 */
export function resizeMatrix(inSize: number, outSize: number, mode: CoordinateTransform, kind: ResizeKind): Float32Array {
  const m = new Float32Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) {
    const s = source(o, inSize, outSize, mode);
    if (kind === 'nearest') {
      const i = mode === 'asymmetric' ? Math.floor(s) : Math.floor(s + 0.5);
      m[o * inSize + Math.min(Math.max(i, 0), inSize - 1)] = 1;
      continue;
    }
    const clamped = Math.min(Math.max(s, 0), inSize - 1);
    const i0 = Math.floor(clamped);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const f = clamped - i0;
    m[o * inSize + i0] += 1 - f;
    m[o * inSize + i1] += f;
  }
  return m;
}

/** `Mh · t · Mwᵀ` over the spatial axes of NHWC `t`, with Mh [Ho, Hi] and Mw [Wo, Wi]. */
function applySeparable(t: tf.Tensor, mh: tf.Tensor2D, mw: tf.Tensor2D): tf.Tensor {
  const [b, hi, wi, c] = t.shape;
  const [ho, wo] = [mh.shape[0], mw.shape[0]];
  const rows = tf.matMul(mh, tf.transpose(t, [1, 0, 2, 3]).reshape([hi, b * wi * c])).reshape([ho, b, wi, c]);
  const cols = tf.matMul(mw, tf.transpose(rows, [2, 1, 0, 3]).reshape([wi, b * ho * c])).reshape([wo, b, ho, c]);
  return tf.transpose(cols, [1, 2, 0, 3]);
}

/**
 * Resizes NHWC `x` with the tfjs kernel and differentiates through the transposed interpolation
 * matrices: the cpu backend's ResizeBilinearGrad returns [B, W, H, C] on non-square maps.
 */
export function resizeForward(x: tf.Tensor, a: ResizeAttrs, kind: ResizeKind): tf.Tensor {
  const [, h, w] = x.shape;
  const [oh, ow] = resizedSize(h, w, a);
  const align = a.coordinateTransform === 'align_corners';
  const half = a.coordinateTransform === 'half_pixel';
  return withCustomGrad([x], ([xi]) => ({
    value:
      kind === 'bilinear'
        ? tf.image.resizeBilinear(xi as tf.Tensor4D, [oh, ow], align, half)
        : tf.image.resizeNearestNeighbor(xi as tf.Tensor4D, [oh, ow], align, half),
    gradFunc: (dy) => {
      const mhT = tf.tensor2d(resizeMatrix(h, oh, a.coordinateTransform, kind), [oh, h]).transpose() as tf.Tensor2D;
      const mwT = tf.tensor2d(resizeMatrix(w, ow, a.coordinateTransform, kind), [ow, w]).transpose() as tf.Tensor2D;
      return applySeparable(dy, mhT, mwT);
    },
  }));
}

/** ONNX Resize with explicit output sizes (batch and channels read at run time). */
export function emitResize(emit: OnnxNodeEmitter, a: ResizeAttrs, kind: ResizeKind): void {
  const [oh, ow] = emit.outputInfo(0).shape.slice(1, 3);
  const i64 = (v: number[]) => emit.constant(v, [v.length], 'int64', 'i64');
  emitChannelsFirst(emit, (x, y) => {
    const shape = emit.temp('shape');
    emit.add('Shape', [x], [shape]);
    const nc = emit.temp('nc');
    emit.add('Slice', [shape, i64([0]), i64([2])], [nc]);
    const sizes = emit.temp('sizes');
    emit.add('Concat', [nc, i64([oh, ow])], [sizes], { axis: 0 });
    const nearestMode = a.coordinateTransform === 'asymmetric' ? 'floor' : 'round_prefer_ceil';
    emit.add('Resize', [x, '', '', sizes], [y], {
      mode: kind === 'bilinear' ? 'linear' : 'nearest',
      coordinate_transformation_mode: a.coordinateTransform,
      ...(kind === 'nearest' ? { nearest_mode: nearestMode } : {}),
    });
  });
}
