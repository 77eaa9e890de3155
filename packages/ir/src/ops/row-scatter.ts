import * as tf from '@tensorflow/tfjs';
import { withCustomGrad } from './custom-grad';

/**
 * Row scatter-add and row gather as a pair of custom gradients, each the other's backward.
 *
 * tfjs differentiates `gather` through `unsortedSegmentSum`, which the cpu backend runs in
 * O(segments·rows) and the wasm backend lacks; `scatterND` sums duplicate indices in one pass on
 * every backend and has no gradient at all. Pairing them gives linear-time forward and backward.
 * Indices must already be valid rows (callers send dropped entries to a spare row they slice off).
 */

/** `out[idx[m]] += rows[m]` into `numRows` zero rows: rows [M, C], idx int32 [M] → [numRows, C]. */
export function scatterAddRows(rows: tf.Tensor2D, idx: tf.Tensor1D, numRows: number): tf.Tensor2D {
  return withCustomGrad([rows], ([r], save) => {
    save([idx]);
    return {
      value: tf.scatterND(idx.reshape([-1, 1]), r, [numRows, r.shape[1]!]),
      gradFunc: (dy, [i]) => tf.gather(dy, i),
    };
  }) as tf.Tensor2D;
}

/** `out[m] = table[idx[m]]`: table [R, C], idx int32 [M] → [M, C]; the gradient scatters back. */
export function gatherRows(table: tf.Tensor2D, idx: tf.Tensor1D): tf.Tensor2D {
  const numRows = table.shape[0];
  return withCustomGrad([table], ([t], save) => {
    save([idx]);
    return {
      value: tf.gather(t, idx),
      gradFunc: (dy, [i]) => tf.scatterND(i.reshape([-1, 1]), dy, [numRows, dy.shape[1]!]),
    };
  }) as tf.Tensor2D;
}

/**
 * Sums `rows` [M, C] into `numCells` cells by flat cell index (int32 [M]); an index outside
 * [0, numCells) drops its row. Returns [numCells, C].
 */
export function sumIntoCells(rows: tf.Tensor2D, cell: tf.Tensor1D, numCells: number): tf.Tensor2D {
  const valid = tf.logicalAnd(tf.greaterEqual(cell, 0), tf.less(cell, numCells));
  const safe = tf.where(valid, cell, tf.fill(cell.shape, numCells, 'int32')) as tf.Tensor1D;
  const summed = scatterAddRows(rows, safe, numCells + 1);
  return summed.slice([0, 0], [numCells, rows.shape[1]]);
}
