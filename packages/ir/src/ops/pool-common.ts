import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { TensorInfo } from '../graph';
import { emitChannelsFirst, type OnnxAttrValue, type OnnxNodeEmitter } from '../onnx/emitter';
import { pair, resolvePad, windowOut } from './op';

const intOrPair = z.union([z.number().int().positive(), z.array(z.number().int().positive()).length(2)]);
const padSchema = z.union([z.enum(['same', 'valid']), z.number().int().min(0), z.array(z.number().int().min(0)).length(4)]);

/** Window attributes shared by max_pool2d and avg_pool2d. */
export const poolAttrs = z.object({
  kernel: intOrPair,
  strides: intOrPair.default(1),
  /** 'same' (SAME_UPPER) | 'valid' | one number for all sides | [top, bottom, left, right]. */
  pad: padSchema.default('valid'),
});
export type PoolAttrs = z.infer<typeof poolAttrs>;

/** Explicit [[top, bottom], [left, right]] padding for an h×w input. */
export function poolPads(a: PoolAttrs, h: number, w: number): [[number, number], [number, number]] {
  const [kh, kw] = pair(a.kernel);
  const [sh, sw] = pair(a.strides);
  return [resolvePad(a.pad, 0, h, kh, sh, 1), resolvePad(a.pad, 1, w, kw, sw, 1)];
}

/** NHWC output shape of a pooling window. */
export function inferPool([x]: readonly (TensorInfo | undefined)[], a: PoolAttrs): TensorInfo[] {
  if (!x) throw new Error('pooling needs x');
  if (x.shape.length !== 4) throw new Error(`x must be NHWC (rank 4), got [${x.shape}]`);
  const [n, h, w, c] = x.shape;
  const [kh, kw] = pair(a.kernel);
  const [sh, sw] = pair(a.strides);
  const [ph, pw] = h === -1 || w === -1 ? [[0, 0], [0, 0]] : poolPads(a, h, w);
  if (ph.some((p) => p >= kh) || pw.some((p) => p >= kw)) throw new Error(`padding [${ph}, ${pw}] must be smaller than the kernel [${kh}, ${kw}]`);
  const oh = windowOut(h, kh, sh, ph[0] + ph[1]);
  const ow = windowOut(w, kw, sw, pw[0] + pw[1]);
  if (oh === 0 || ow === 0) throw new Error(`kernel [${kh}, ${kw}] is larger than the padded input [${x.shape}]`);
  return [{ shape: [n, oh, ow, c], dtype: 'float32' }];
}

/** Pads NHWC `x` spatially with `value` as the attributes ask (the same tensor when unpadded). */
export function padSpatial(x: tf.Tensor, a: PoolAttrs, value: number): tf.Tensor4D {
  const [ph, pw] = poolPads(a, x.shape[1]!, x.shape[2]!);
  if (ph[0] + ph[1] + pw[0] + pw[1] === 0) return x as tf.Tensor4D;
  return tf.pad(x, [[0, 0], ph, pw, [0, 0]], value) as tf.Tensor4D;
}

/** Emits an ONNX MaxPool / AveragePool with explicit pads. */
export function emitPool(emit: OnnxNodeEmitter, opType: 'MaxPool' | 'AveragePool', a: PoolAttrs, extra: Record<string, OnnxAttrValue> = {}): void {
  const info = emit.inputInfo(0)!;
  const [ph, pw] = poolPads(a, info.shape[1], info.shape[2]);
  emitChannelsFirst(emit, (x, y) => {
    emit.add(opType, [x], [y], { kernel_shape: pair(a.kernel), strides: pair(a.strides), pads: [ph[0], pw[0], ph[1], pw[1]], ...extra });
  });
}
