import * as tf from '@tensorflow/tfjs';
import { withCustomGrad } from './custom-grad';

/**
 * Row scatter-add with a gather as its gradient. `scatterND` sums duplicate indices in one pass on
 * every backend but has no gradient in tfjs; the sort-free alternative `unsortedSegmentSum` is
 * O(segments·rows) on cpu and missing on wasm. Linear-time forward and backward.
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
