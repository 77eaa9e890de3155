import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { emitCellSum, emitFixedCellSum } from './cell-scatter-onnx';
import { sizeOf } from '../graph';
import { defineOp, mergeDim } from './op';
import { sumIntoCells } from './row-scatter';

export const bevPoolAttrs = z.object({
  /** BEV rows (x bins). */
  gridH: z.number().int().positive(),
  /** BEV columns (y bins). */
  gridW: z.number().int().positive(),
});
export type BevPoolAttrs = z.infer<typeof bevPoolAttrs>;

/**
 * Camera→BEV pooling: sums frustum point features into BEV cells.
 *
 * Inputs: `features` [N, C] or [B, N, C]; `cellIndex` int32 of the leading shape, holding the flat
 * cell `i·gridW + j` (row i ↔ x bin, column j ↔ y bin). An index outside [0, gridH·gridW), such as
 * −1, drops the point. Output [B, gridH, gridW, C] (B = 1 for unbatched features). Geometry stays
 * off the tape: the cell index is data, computed once per calibration.
 *
 * @example
 * b.op('bev_pool', [frustumFeatures, cellIndex], { gridH: 64, gridW: 64 }) // [B, 64, 64, C]
 */
export const bevPool = defineOp<BevPoolAttrs>({
  name: 'bev_pool',
  inputs: ['features', 'cellIndex'],
  attrs: bevPoolAttrs,
  channels: { kind: 'through' },
  sign: 'preserves',
  // One accumulate per lifted element: the sum half of the lift's outer product.
  macs: ([features]) => sizeOf(features!.shape),
  differentiable: true,
  weight: null,
  infer([f, idx], a) {
    if (!f || !idx) throw new Error('bev_pool needs features and cellIndex');
    if (f.shape.length !== 2 && f.shape.length !== 3) throw new Error(`features must be [N, C] or [B, N, C], got [${f.shape}]`);
    if (idx.dtype !== 'int32') throw new Error(`cellIndex must be int32, got ${idx.dtype}`);
    const lead = f.shape.slice(0, -1);
    if (idx.shape.length !== lead.length) throw new Error(`cellIndex must have shape [${lead}] (features without channels), got [${idx.shape}]`);
    lead.forEach((d, i) => mergeDim(d, idx.shape[i], `cellIndex [${idx.shape}] does not match features [${f.shape}]`));
    const batch = f.shape.length === 3 ? f.shape[0] : 1;
    return [{ shape: [batch, a.gridH, a.gridW, f.shape[f.shape.length - 1]], dtype: 'float32' }];
  },
  forward([f, idx], a) {
    const cells = a.gridH * a.gridW;
    const c = f!.shape[f!.rank - 1];
    const batch = f!.rank === 3 ? f!.shape[0] : 1;
    let flat = idx!.reshape([-1]) as tf.Tensor1D;
    if (f!.rank === 3) {
      // Offset each sample into its own block of cells; keep dropped points out of range.
      const valid = tf.logicalAnd(tf.greaterEqual(idx!, 0), tf.less(idx!, cells));
      const offsets = tf.range(0, batch * cells, cells, 'int32').reshape([batch, 1]);
      flat = tf.where(valid, tf.add(idx!, offsets), tf.fill(idx!.shape, -1, 'int32')).reshape([-1]) as tf.Tensor1D;
    }
    const pooled = sumIntoCells(f!.reshape([-1, c]) as tf.Tensor2D, flat, batch * cells);
    return [pooled.reshape([batch, a.gridH, a.gridW, c])];
  },
  onnx(emit, a) {
    const f = emit.inputInfo(0)!;
    const c = f.shape[f.shape.length - 1];
    const grid = { h: a.gridH, w: a.gridW, c };
    // A fixed rig's index of one sample is sorted here, once, instead of in every run; every sample shares it.
    const fixed = emit.fixedInput(1);
    if (fixed && fixed.length === f.shape[f.shape.length - 2]) {
      return emitFixedCellSum(emit, emit.input(0), f.shape.length as 2 | 3, fixed, a.gridH * a.gridW, grid, emit.output(0));
    }
    const cell = emit.temp('cell64');
    emit.add('Cast', [emit.input(1)], [cell], { to: 7 });
    emitCellSum(emit, emit.input(0), f.shape.length as 2 | 3, cell, a.gridH * a.gridW, grid, emit.output(0));
  },
});

declare module './op' {
  interface OpAttrs {
    bev_pool: z.input<typeof bevPoolAttrs>;
  }
}
