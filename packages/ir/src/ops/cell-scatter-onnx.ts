import type { OnnxNodeEmitter } from '../onnx/emitter';

/**
 * Emits the ONNX form of a sum into BEV cells shared by `bev_pool` and `pillar_scatter`:
 * features [N, C] (or [B, N, C]), `cell` an int64 value of the leading shape holding flat cell
 * indices in [0, numCells), anything else dropped. ScatterND with reduction 'add' (opset 16) adds
 * whole C-channel rows (an index per row, not per element, which is what keeps it fast in
 * onnxruntime); dropped entries land in a spare row that is sliced off before the reshape to
 * [B, gridH, gridW, C]. Shapes are read at run time, so an unknown batch size exports too.
 */
export function emitCellSum(
  emit: OnnxNodeEmitter,
  features: string,
  rank: 2 | 3,
  cell: string,
  numCells: number,
  grid: { h: number; w: number; c: number },
  output: string,
): void {
  if (emit.opset < 16) throw new Error(`needs opset >= 16 for ScatterND reduction 'add', got ${emit.opset}`);
  const i64 = (v: number[], hint: string) => emit.constant(v, [v.length], 'int64', hint);
  const node = (op: string, inputs: string[], hint: string, attrs = {}) => {
    const out = emit.temp(hint);
    emit.add(op, inputs, [out], attrs);
    return out;
  };
  const limit = emit.constant([numCells], [], 'int64', 'num_cells');
  const zero = emit.constant([0], [], 'int64', 'zero');
  const valid = node('And', [node('GreaterOrEqual', [cell, zero], 'ge'), node('Less', [cell, limit], 'lt')], 'valid');
  const safe = node('Where', [valid, cell, limit], 'safe_cell');
  const cellColumn = node('Unsqueeze', [safe, i64([-1], 'axis')], 'cell_col');
  const shape = node('Shape', [features], 'shape');
  const parts = [i64([numCells + 1], 'rows')];
  let index = cellColumn;
  if (rank === 3) {
    // Each row's (sample, cell) pair: the sample index broadcast along the row's leading axes.
    const batch = node('Slice', [shape, i64([0], 's'), i64([1], 'e')], 'batch');
    parts.unshift(batch);
    const samples = node('Range', [emit.constant([0], [], 'int64', 'start'), node('Squeeze', [batch, i64([0], 'axis')], 'batch_size'), emit.constant([1], [], 'int64', 'step')], 'samples');
    const sampleColumn = node('Expand', [node('Unsqueeze', [samples, i64([1, 2], 'axes')], 'sample_col'), node('Shape', [cellColumn], 'col_shape')], 'sample_index');
    index = node('Concat', [sampleColumn, cellColumn], 'index', { axis: -1 });
  }
  parts.push(node('Slice', [shape, i64([rank - 1], 's'), i64([rank], 'e')], 'channels'));
  const zeros = node('ConstantOfShape', [node('Concat', parts, 'data_shape', { axis: 0 })], 'zeros', {
    value: { tensor: { dtype: 'float32', dims: [1], values: [0] } },
  });
  const summed = node('ScatterND', [zeros, index, features], 'summed', { reduction: 'add' });
  const kept = node('Slice', [summed, i64([0], 's'), i64([numCells], 'e'), i64([rank - 2], 'a')], 'kept');
  emit.add('Reshape', [kept, i64([-1, grid.h, grid.w, grid.c], 'grid_shape')], [output]);
}
