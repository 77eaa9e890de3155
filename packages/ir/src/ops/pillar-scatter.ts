import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { emitCellSum } from './cell-scatter-onnx';
import { defineOp, mergeDim, noMacs } from './op';
import { sumIntoCells } from './row-scatter';

export const pillarScatterAttrs = z.object({
  /** BEV rows (x bins). */
  gridH: z.number().int().positive(),
  /** BEV columns (y bins). */
  gridW: z.number().int().positive(),
  /** Output batch size for unbatched pillars whose coords carry a batch column. */
  batch: z.number().int().positive().default(1),
});
export type PillarScatterAttrs = z.infer<typeof pillarScatterAttrs>;

/** Per coord column, the exclusive upper bound; the last two are the row and the column. */
function limits(coordCols: number, a: PillarScatterAttrs): number[] {
  return coordCols === 3 ? [a.batch, a.gridH, a.gridW] : [a.gridH, a.gridW];
}

/**
 * Scatters pillar features onto the BEV grid (PointPillars' scatter), summing pillars that share a
 * cell. Inputs: `pillarFeatures` [P, C] with `coords` int32 [P, 3] (batch, x-row, y-col) or [P, 2]
 * (x-row, y-col; batch 0), or batched [B, P, C] with coords [B, P, 2]. A row with any coordinate
 * negative (−1 padding) or past the grid is ignored. Output [B, gridH, gridW, C], where B is
 * `batch` for unbatched pillars.
 *
 * @example
 * b.op('pillar_scatter', [pfnOut, pillarCoords], { gridH: 64, gridW: 64, batch: 2 }) // [2, 64, 64, C]
 */
export const pillarScatter = defineOp<PillarScatterAttrs>({
  name: 'pillar_scatter',
  inputs: ['pillarFeatures', 'coords'],
  attrs: pillarScatterAttrs,
  channels: { kind: 'through' },
  sign: 'preserves',
  macs: noMacs,
  differentiable: true,
  weight: null,
  infer([f, xy], a) {
    if (!f || !xy) throw new Error('pillar_scatter needs pillarFeatures and coords');
    if (xy.dtype !== 'int32') throw new Error(`coords must be int32, got ${xy.dtype}`);
    const batched = f.shape.length === 3;
    if (!batched && f.shape.length !== 2) throw new Error(`pillarFeatures must be [P, C] or [B, P, C], got [${f.shape}]`);
    const cols = xy.shape[xy.shape.length - 1];
    const okCoords = batched ? xy.shape.length === 3 && cols === 2 : xy.shape.length === 2 && (cols === 2 || cols === 3);
    if (!okCoords) throw new Error(`coords must be ${batched ? '[B, P, 2]' : '[P, 3] or [P, 2]'} for pillarFeatures [${f.shape}], got [${xy.shape}]`);
    f.shape.slice(0, -1).forEach((d, i) => mergeDim(d, xy.shape[i], `coords [${xy.shape}] do not match pillarFeatures [${f.shape}]`));
    return [{ shape: [batched ? f.shape[0] : a.batch, a.gridH, a.gridW, f.shape[f.shape.length - 1]], dtype: 'float32' }];
  },
  forward([f, xy], a) {
    const cells = a.gridH * a.gridW;
    const batched = f!.rank === 3;
    const cols = tf.unstack(xy!, xy!.rank - 1);
    const lim = limits(cols.length, a);
    let valid = tf.onesLike(cols[0]).cast('bool');
    cols.forEach((col, k) => (valid = tf.logicalAnd(valid, tf.logicalAnd(tf.greaterEqual(col, 0), tf.less(col, lim[k])))));
    // Flat cell over all samples: b·H·W + row·W + col, with b from the coords or the leading dim.
    let flat = tf.add(tf.mul(cols[cols.length - 2], tf.scalar(a.gridW, 'int32')), cols[cols.length - 1]);
    if (cols.length === 3) flat = tf.add(flat, tf.mul(cols[0], tf.scalar(cells, 'int32')));
    const batch = batched ? f!.shape[0] : a.batch;
    if (batched) flat = tf.add(flat, tf.range(0, batch * cells, cells, 'int32').reshape([batch, 1]));
    flat = tf.where(valid, flat, tf.fill(flat.shape, -1, 'int32'));
    const c = f!.shape[f!.rank - 1];
    const grid = sumIntoCells(f!.reshape([-1, c]) as tf.Tensor2D, flat.reshape([-1]) as tf.Tensor1D, batch * cells);
    return [grid.reshape([batch, a.gridH, a.gridW, c])];
  },
  onnx(emit, a) {
    const f = emit.inputInfo(0)!;
    const ncols = emit.inputInfo(1)!.shape.at(-1)!;
    const axis = emit.inputInfo(1)!.shape.length - 1;
    const lim = limits(ncols, a);
    const node = (op: string, inputs: string[], hint: string, attrs = {}) => {
      const out = emit.temp(hint);
      emit.add(op, inputs, [out], attrs);
      return out;
    };
    const scalar = (v: number) => emit.constant([v], [], 'int64', 'k');
    const xy = node('Cast', [emit.input(1)], 'coords64', { to: 7 });
    const cols = lim.map((_, k) => node('Gather', [xy, scalar(k)], 'coord', { axis }));
    const checks = cols.map((col, k) => node('And', [node('GreaterOrEqual', [col, scalar(0)], 'ge'), node('Less', [col, scalar(lim[k])], 'lt')], 'ok'));
    const valid = checks.reduce((acc, ok) => node('And', [acc, ok], 'valid'));
    let flat = node('Add', [node('Mul', [cols[ncols - 2], scalar(a.gridW)], 'row_off'), cols[ncols - 1]], 'cell');
    if (ncols === 3) flat = node('Add', [flat, node('Mul', [cols[0], scalar(a.gridH * a.gridW)], 'batch_off')], 'cell');
    const cell = node('Where', [valid, flat, scalar(-1)], 'cell_or_dropped');
    const numCells = a.gridH * a.gridW * (f.shape.length === 3 ? 1 : a.batch);
    emitCellSum(emit, emit.input(0), f.shape.length as 2 | 3, cell, numCells, { h: a.gridH, w: a.gridW, c: f.shape.at(-1)! }, emit.output(0));
  },
});

declare module './op' {
  interface OpAttrs {
    pillar_scatter: z.input<typeof pillarScatterAttrs>;
  }
}
