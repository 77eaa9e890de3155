import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { NHWC_TO_NCHW } from '../onnx/emitter';
import { defineOp, mergeDim, noMacs } from './op';
import { withCustomGrad } from './custom-grad';

export const gridSampleAttrs = z.object({});
export type GridSampleAttrs = z.infer<typeof gridSampleAttrs>;

/**
 * Bilinear sampling of a feature map at given points.
 *
 * Inputs: `features` [B, H, W, C]; `points` [B, K, 2] as (row, col) in pixel units, where
 * (i, j) is the centre of pixel i, j, so integral points return pixels exactly. Each of the four
 * neighbours outside the map contributes zero (PyTorch's padding_mode 'zeros'). Output [B, K, C].
 * Differentiable in both the features (a scatter-add, linear in the map size) and the points.
 * ONNX: GridSample (opset 16) with align_corners 0 after normalising the points.
 *
 * @example
 * b.op('grid_sample', [bev, keypoints]) // [B, K, C]
 */
export const gridSample = defineOp<GridSampleAttrs>({
  name: 'grid_sample',
  inputs: ['features', 'points'],
  attrs: gridSampleAttrs,
  channels: { kind: 'opaque' },
  sign: 'any',
  macs: noMacs,
  differentiable: true,
  weight: null,
  infer([f, p]) {
    if (!f || !p) throw new Error('grid_sample needs features and points');
    if (f.shape.length !== 4) throw new Error(`features must be NHWC (rank 4), got [${f.shape}]`);
    if (p.shape.length !== 3 || p.shape[2] !== 2) throw new Error(`points must be [B, K, 2] (row, col), got [${p.shape}]`);
    if (p.dtype !== 'float32') throw new Error(`points must be float32, got ${p.dtype}`);
    const batch = mergeDim(f.shape[0], p.shape[0], `points batch does not match features [${f.shape}]`);
    return [{ shape: [batch, p.shape[1], f.shape[3]], dtype: 'float32' }];
  },
  forward([f, p]) {
    const [batch, h, w, c] = f!.shape;
    const k = p!.shape[1]!;
    return [
      withCustomGrad([f!, p!], ([features, points], save) => {
        const { index, weight, dRow, dCol } = bilinearCorners(points, h, w);
        const table = features.reshape([batch * h * w, c]);
        const picked = tf.gather(table, index.reshape([-1])).reshape([4, batch, k, c]);
        save([index, weight, dRow, dCol, picked]);
        return {
          value: tf.sum(tf.mul(picked, tf.expandDims(weight, -1)), 0),
          gradFunc: (dy, [idx, wt, dr, dc, corner]) => {
            const spread = tf.mul(tf.expandDims(dy, 0), tf.expandDims(wt, -1)).reshape([-1, c]);
            const dFeatures = tf.scatterND(idx.reshape([-1, 1]), spread, [batch * h * w, c]).reshape([batch, h, w, c]);
            // dy·∂y/∂p: each corner's value times the derivative of its weight, summed over corners and channels.
            const along = (dWeight: tf.Tensor) => tf.sum(tf.mul(tf.sum(tf.mul(corner, tf.expandDims(dy, 0)), -1), dWeight), 0);
            return [dFeatures, tf.stack([along(dr), along(dc)], -1)];
          },
        };
      }),
    ];
  },
  onnx(emit) {
    if (emit.opset < 16) throw new Error(`GridSample needs opset >= 16, got ${emit.opset}`);
    const [, h, w] = emit.inputInfo(0)!.shape;
    if (h === -1 || w === -1) throw new Error('grid_sample export needs a known feature map size');
    const node = (op: string, inputs: string[], hint: string, attrs = {}) => {
      const out = emit.temp(hint);
      emit.add(op, inputs, [out], attrs);
      return out;
    };
    // (row, col) pixel centres → GridSample's (x, y) in [-1, 1] with align_corners 0.
    const xy = node('Gather', [emit.input(1), emit.constant([1, 0], [2], 'int64', 'col_row')], 'xy', { axis: 2 });
    const scaled = node('Mul', [xy, emit.constant([2 / w, 2 / h], [2], 'float32', 'to_unit')], 'xy_scaled');
    const normalised = node('Add', [scaled, emit.constant([1 / w - 1, 1 / h - 1], [2], 'float32', 'to_unit_offset')], 'xy_norm');
    const grid = node('Unsqueeze', [normalised, emit.constant([1], [1], 'int64', 'axis')], 'grid');
    const x = node('Transpose', [emit.input(0)], 'nchw', { perm: NHWC_TO_NCHW });
    const sampled = node('GridSample', [x, grid], 'sampled', { mode: emit.opset >= 20 ? 'linear' : 'bilinear', padding_mode: 'zeros', align_corners: 0 });
    const bkc = node('Transpose', [sampled], 'b1kc', { perm: [0, 2, 3, 1] });
    emit.add('Squeeze', [bkc, emit.constant([1], [1], 'int64', 'axis')], [emit.output(0)]);
  },
});

/**
 * The four neighbours of each point: flat row indices into the [B·H·W, C] table (0 for neighbours
 * outside the map, whose weights are 0) and bilinear weights with their derivatives in row and col,
 * each [4, B, K] in the order (r0, c0), (r0, c0+1), (r0+1, c0), (r0+1, c0+1).
 */
function bilinearCorners(points: tf.Tensor, h: number, w: number) {
  const [batch] = points.shape;
  const [row, col] = tf.unstack(points, 2);
  const r0 = tf.floor(row);
  const c0 = tf.floor(col);
  const fr = tf.sub(row, r0);
  const fc = tf.sub(col, c0);
  const [gr, gc] = [tf.sub(1, fr), tf.sub(1, fc)];
  const base = tf.range(0, batch * h * w, h * w, 'int32').reshape([batch, 1]);
  const index: tf.Tensor[] = [];
  const inside: tf.Tensor[] = [];
  for (const [dr, dc] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
    const r = tf.cast(tf.add(r0, dr), 'int32');
    const cc = tf.cast(tf.add(c0, dc), 'int32');
    const ok = tf.logicalAnd(tf.logicalAnd(tf.greaterEqual(r, 0), tf.less(r, h)), tf.logicalAnd(tf.greaterEqual(cc, 0), tf.less(cc, w)));
    const flat = tf.add(base, tf.add(tf.mul(r, tf.scalar(w, 'int32')), cc));
    index.push(tf.where(ok, flat, tf.zerosLike(flat)));
    inside.push(tf.cast(ok, 'float32'));
  }
  const mask = tf.stack(inside);
  const stackMasked = (parts: tf.Tensor[]) => tf.mul(tf.stack(parts), mask);
  return {
    index: tf.stack(index),
    weight: stackMasked([tf.mul(gr, gc), tf.mul(gr, fc), tf.mul(fr, gc), tf.mul(fr, fc)]),
    dRow: stackMasked([tf.neg(gc), tf.neg(fc), gc, fc]),
    dCol: stackMasked([tf.neg(gr), gr, tf.neg(fr), fr]),
  };
}

declare module './op' {
  interface OpAttrs {
    grid_sample: z.input<typeof gridSampleAttrs>;
  }
}
