import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { emitChannelsFirst } from '../onnx/emitter';
import { sizeOf } from '../graph';
import { defineOp, mergeDim, pair, resolvePad, windowOut } from './op';

const padSchema = z.union([z.enum(['same', 'valid']), z.number().int().min(0), z.array(z.number().int().min(0)).length(4)]);
const intOrPair = z.union([z.number().int().positive(), z.array(z.number().int().positive()).length(2)]);

export const conv2dAttrs = z.object({
  strides: intOrPair.default(1),
  /** 'same' | 'valid' | one number for all sides | [top, bottom, left, right]. */
  pad: padSchema.default('same'),
  dilations: intOrPair.default(1),
  groups: z.number().int().positive().default(1),
});
export type Conv2dAttrs = z.infer<typeof conv2dAttrs>;

/** Explicit [[top, bottom], [left, right]] for an input of spatial size h×w. */
export function convPads(a: Conv2dAttrs, h: number, w: number, kh: number, kw: number): [[number, number], [number, number]] {
  const [sh, sw] = pair(a.strides);
  const [dh, dw] = pair(a.dilations);
  return [resolvePad(a.pad, 0, h, kh, sh, dh), resolvePad(a.pad, 1, w, kw, sw, dw)];
}

/**
 * Inserts (d−1) zeros between kernel taps so a dilated convolution becomes a plain one: tfjs has no
 * gradient for dilated conv2d, while pad/reshape/slice are differentiable on every backend.
 */
export function dilateKernel(w: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  if (dh === 1 && dw === 1) return w;
  const [kh, kw, ci, co] = w.shape;
  const spread = w
    .reshape([kh, 1, kw, 1, ci, co])
    .pad([[0, 0], [0, dh - 1], [0, 0], [0, dw - 1], [0, 0], [0, 0]])
    .reshape([kh * dh, kw * dw, ci, co]);
  return spread.slice([0, 0, 0, 0], [(kh - 1) * dh + 1, (kw - 1) * dw + 1, ci, co]) as tf.Tensor4D;
}

/** NHWC 2-D convolution; weight [kh, kw, cin/groups, cout], optional bias [cout]. */
export const conv2d = defineOp<Conv2dAttrs>({
  name: 'conv2d',
  inputs: ['x', 'weight', 'bias?'],
  attrs: conv2dAttrs,
  // Grouped kernels tie output channels to input groups, which channel removal does not rewrite.
  channels: (a) => (a.groups === 1 ? { kind: 'produce', weightInput: 1, inAxis: 2, biasInput: 2 } : { kind: 'opaque' }),
  sign: 'any',
  macs: ([, w], [y]) => sizeOf(y.shape) * w!.shape[0] * w!.shape[1] * w!.shape[2],
  differentiable: true,
  weight: { input: 1, outAxis: 3 },
  infer([x, w, b], a) {
    if (!x || !w) throw new Error('conv2d needs x and weight');
    if (x.shape.length !== 4) throw new Error(`x must be NHWC (rank 4), got [${x.shape}]`);
    if (w.shape.length !== 4) throw new Error(`weight must be [kh, kw, cin/groups, cout], got [${w.shape}]`);
    const [n, h, wd, c] = x.shape;
    const [kh, kw, cig, co] = w.shape;
    mergeDim(c, cig * a.groups, `input channels ${c} do not match weight [${w.shape}] × groups ${a.groups}`);
    if (co % a.groups !== 0) throw new Error(`output channels ${co} not divisible by groups ${a.groups}`);
    if (b) mergeDim(b.shape[0], co, `bias length does not match output channels`);
    const [sh, sw] = pair(a.strides);
    const [dh, dw] = pair(a.dilations);
    const pads = h === -1 || wd === -1 ? [[0, 0], [0, 0]] : convPads(a, h, wd, kh, kw);
    return [
      {
        shape: [n, windowOut(h, kh, sh, pads[0][0] + pads[0][1], dh), windowOut(wd, kw, sw, pads[1][0] + pads[1][1], dw), co],
        dtype: 'float32',
      },
    ];
  },
  forward([x, w, b], a) {
    const x4 = x as tf.Tensor4D;
    const [dh, dw] = pair(a.dilations);
    const kernel = dilateKernel(w as tf.Tensor4D, dh, dw);
    const [, h, wd, cin] = x4.shape;
    const [kh, kw] = (w as tf.Tensor4D).shape;
    const [ph, pw] = convPads(a, h, wd, kh, kw);
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], ph, pw, [0, 0]];
    const strides = pair(a.strides);
    let y: tf.Tensor4D;
    if (a.groups === 1) {
      y = tf.conv2d(x4, kernel, strides, pad) as tf.Tensor4D;
    } else if (a.groups === cin && kernel.shape[2] === 1) {
      // Depthwise: output o = c·m + j in both layouts, so [kh, kw, 1, cin·m] reshapes to [kh, kw, cin, m].
      const m = kernel.shape[3] / cin;
      const dwKernel = kernel.reshape([kernel.shape[0], kernel.shape[1], cin, m]) as tf.Tensor4D;
      y = tf.depthwiseConv2d(x4, dwKernel, strides, pad) as tf.Tensor4D;
    } else {
      const xs = tf.split(x4, a.groups, 3);
      const ks = tf.split(kernel, a.groups, 3);
      y = tf.concat(xs.map((xi, g) => tf.conv2d(xi as tf.Tensor4D, ks[g] as tf.Tensor4D, strides, pad)), 3) as tf.Tensor4D;
    }
    return [b ? tf.add(y, b) : y];
  },
  onnx(emit, a) {
    const info = emit.inputInfo(0)!;
    const wInfo = emit.inputInfo(1)!;
    const [kh, kw] = wInfo.shape;
    const [ph, pw] = convPads(a, info.shape[1], info.shape[2], kh, kw);
    emitChannelsFirst(emit, (x, y) => {
      const inputs = [x, emit.constInput(1, [3, 2, 0, 1])];
      if (emit.input(2)) inputs.push(emit.input(2));
      emit.add('Conv', inputs, [y], {
        kernel_shape: [kh, kw],
        strides: pair(a.strides),
        dilations: pair(a.dilations),
        pads: [ph[0], pw[0], ph[1], pw[1]],
        group: a.groups,
      });
    });
  },
});

declare module './op' {
  interface OpAttrs {
    conv2d: z.input<typeof conv2dAttrs>;
  }
}
