import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { emitChannelsFirst } from '../onnx/emitter';
import { sizeOf } from '../graph';
import { defineOp, mergeDim, pair, resolvePad } from './op';

const intOrPair = z.union([z.number().int().positive(), z.array(z.number().int().positive()).length(2)]);

export const convTranspose2dAttrs = z.object({
  strides: intOrPair.default(1),
  /**
   * Cropped from the full output (s·(in−1) + k): 'valid' crops nothing, 'same' crops k − s (half
   * before, rest after) so the output is in·s, a number crops both sides alike, [top, bottom, left,
   * right] is explicit, as in PyTorch/ONNX `pads`.
   */
  pad: z.union([z.enum(['same', 'valid']), z.number().int().min(0), z.array(z.number().int().min(0)).length(4)]).default('valid'),
  /** Extra rows/columns at the bottom/right (PyTorch output_padding), less than the stride. */
  outputPadding: z.union([z.number().int().min(0), z.array(z.number().int().min(0)).length(2)]).default(0),
});
export type ConvTranspose2dAttrs = z.infer<typeof convTranspose2dAttrs>;

/** [[top, bottom], [left, right]] cropped from the full output; a negative end pads instead ('same' with k < s). */
export function transposePads(a: ConvTranspose2dAttrs, h: number, w: number, kh: number, kw: number): [[number, number], [number, number]] {
  const [sh, sw] = pair(a.strides);
  const one = (axis: 0 | 1, size: number, k: number, s: number): [number, number] => {
    if (a.pad !== 'same') return resolvePad(a.pad, axis, size, k, s, 1);
    const total = k - s;
    return total >= 0 ? [Math.floor(total / 2), total - Math.floor(total / 2)] : [0, total];
  };
  return [one(0, h, kh, sh), one(1, w, kw, sw)];
}

function outSize(size: number, k: number, s: number, pads: [number, number], extra: number): number {
  return size === -1 ? -1 : (size - 1) * s + k - pads[0] - pads[1] + extra;
}

/**
 * NHWC transposed convolution (the gradient of conv2d w.r.t. its input, used for learned
 * upsampling). Weight [kh, kw, cout, cin] as tfjs `conv2dTranspose` takes it; optional bias [cout].
 * Output size per axis: s·(in − 1) + k − padBefore − padAfter + outputPadding.
 *
 * @example
 * b.op('conv_transpose2d', [x, b.param('up.weight', [2, 2, 32, 64])], { strides: 2 }) // [B, 2H, 2W, 32]
 */
export const convTranspose2d = defineOp<ConvTranspose2dAttrs>({
  name: 'conv_transpose2d',
  inputs: ['x', 'weight', 'bias?'],
  attrs: convTranspose2dAttrs,
  channels: { kind: 'opaque' },
  sign: 'any',
  // Every input pixel scatters a kh×kw×cout patch.
  macs: ([x, w]) => sizeOf(x!.shape) * w!.shape[0] * w!.shape[1] * w!.shape[2],
  differentiable: true,
  weight: { input: 1, outAxis: 2 },
  infer([x, w, b], a) {
    if (!x || !w) throw new Error('conv_transpose2d needs x and weight');
    if (x.shape.length !== 4) throw new Error(`x must be NHWC (rank 4), got [${x.shape}]`);
    if (w.shape.length !== 4) throw new Error(`weight must be [kh, kw, cout, cin], got [${w.shape}]`);
    const [n, h, wd, c] = x.shape;
    const [kh, kw, co, ci] = w.shape;
    mergeDim(c, ci, `input channels ${c} do not match weight [${w.shape}] (last dim is cin)`);
    if (b) mergeDim(b.shape[0], co, `bias length does not match output channels`);
    const [sh, sw] = pair(a.strides);
    const [oph, opw] = pair(a.outputPadding);
    if (oph >= sh || opw >= sw) throw new Error(`outputPadding [${oph}, ${opw}] must be smaller than strides [${sh}, ${sw}]`);
    const [ph, pw] = transposePads(a, Math.max(h, 1), Math.max(wd, 1), kh, kw);
    return [{ shape: [n, outSize(h, kh, sh, ph, oph), outSize(wd, kw, sw, pw, opw), co], dtype: 'float32' }];
  },
  forward([x, w, b], a) {
    const [n, h, wd] = x!.shape;
    const [kh, kw, co] = w!.shape;
    const [sh, sw] = pair(a.strides);
    const [oph, opw] = pair(a.outputPadding);
    const full: [number, number] = [(h - 1) * sh + kh, (wd - 1) * sw + kw];
    let y: tf.Tensor = tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [n, full[0], full[1], co], [sh, sw], 'valid');
    // Crop the requested pads, then add zero rows for output padding (nothing reaches them but the bias).
    const [ph, pw] = transposePads(a, h, wd, kh, kw);
    const out = [outSize(h, kh, sh, ph, oph), outSize(wd, kw, sw, pw, opw)];
    const kept = [Math.min(out[0], full[0] - ph[0]), Math.min(out[1], full[1] - pw[0])];
    y = tf.slice(y, [0, ph[0], pw[0], 0], [n, kept[0], kept[1], co]);
    if (kept[0] < out[0] || kept[1] < out[1]) y = tf.pad(y, [[0, 0], [0, out[0] - kept[0]], [0, out[1] - kept[1]], [0, 0]]);
    return [b ? tf.add(y, b) : y];
  },
  onnx(emit, a) {
    const [, h, wd] = emit.inputInfo(0)!.shape;
    const [kh, kw] = emit.inputInfo(1)!.shape;
    const [ph, pw] = transposePads(a, h, wd, kh, kw);
    const [oph, opw] = pair(a.outputPadding);
    emitChannelsFirst(emit, (x, y) => {
      const inputs = [x, emit.constInput(1, [3, 2, 0, 1])];
      if (emit.input(2)) inputs.push(emit.input(2));
      emit.add('ConvTranspose', inputs, [y], {
        kernel_shape: [kh, kw],
        strides: pair(a.strides),
        pads: [ph[0], pw[0], Math.max(ph[1], 0), Math.max(pw[1], 0)],
        output_padding: [oph + Math.max(-ph[1], 0), opw + Math.max(-pw[1], 0)],
      });
    });
  },
});

declare module './op' {
  interface OpAttrs {
    conv_transpose2d: z.input<typeof convTranspose2dAttrs>;
  }
}
