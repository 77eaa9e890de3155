import type { OnnxNodeEmitter } from '../onnx/emitter';

const ONNX_DOUBLE = 11;
const ONNX_FLOAT = 1;
const ONNX_INT32 = 6;

/**
 * Emits the ONNX form of a sum into BEV cells shared by `bev_pool` and `pillar_scatter`:
 * features [N, C] (or [B, N, C]), `cell` an int64 value of the leading shape holding flat cell
 * indices in [0, numCells), anything else dropped (into a spare row sliced off at the end).
 *
 * ScatterND with reduction 'add' would be the direct form, but onnxruntime's CPU kernel splits the
 * updates across threads without guarding duplicate indices, so with more than one intra-op thread
 * cells shared by several points lose updates at random (microsoft/onnxruntime#18048, #23396).
 * This form is race-free: rows are sorted by (sample, cell) key with TopK, summed as a running
 * CumSum in float64 (so the differences below lose nothing a float32 sum keeps), and each cell's
 * sum is the running sum at its last row minus the one at the previous cell's last row. Those
 * sums have unique keys, so a plain ScatterND writes them. Shapes are read at run time, so an
 * unknown batch size exports too.
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
  if (emit.opset < 16) throw new Error(`needs opset >= 16 (ScatterND on a runtime-shaped output), got ${emit.opset}`);
  const i64 = (v: number[], hint: string) => emit.constant(v, [v.length], 'int64', hint);
  const node = (op: string, inputs: string[], hint: string, attrs = {}) => {
    const out = emit.temp(hint);
    emit.add(op, inputs, [out], attrs);
    return out;
  };
  const rows = numCells + 1;
  const limit = emit.constant([numCells], [], 'int64', 'num_cells');
  const zero = emit.constant([0], [], 'int64', 'zero');
  const valid = node('And', [node('GreaterOrEqual', [cell, zero], 'ge'), node('Less', [cell, limit], 'lt')], 'valid');
  let key = node('Where', [valid, cell, limit], 'safe_cell');
  const shape = node('Shape', [features], 'shape');
  const channels = node('Slice', [shape, i64([rank - 1], 's'), i64([rank], 'e')], 'channels');
  let outRows = i64([rows], 'rows');
  if (rank === 3) {
    // Sample b's cells occupy keys [b·rows, (b+1)·rows).
    const batch = node('Slice', [shape, i64([0], 's'), i64([1], 'e')], 'batch');
    const samples = node('Range', [emit.constant([0], [], 'int64', 'start'), node('Squeeze', [batch, i64([0], 'axis')], 'batch_size'), emit.constant([1], [], 'int64', 'step')], 'samples');
    const offset = node('Mul', [node('Unsqueeze', [samples, i64([1], 'axes')], 'sample_col'), emit.constant([rows], [], 'int64', 'row_count')], 'sample_offset');
    key = node('Add', [key, offset], 'key');
    outRows = node('Mul', [batch, outRows], 'all_rows');
  }
  const flatKey = node('Reshape', [key, i64([-1], 'flat')], 'flat_key');
  const flatFeatures = node('Reshape', [features, node('Concat', [i64([-1], 'any'), channels], 'row_shape', { axis: 0 })], 'flat_features');
  const count = node('Shape', [flatKey], 'count');
  const sortedKey = emit.temp('sorted_key');
  const order = emit.temp('order');
  emit.add('TopK', [flatKey, count], [sortedKey, order], { axis: 0, largest: 0, sorted: 1 });
  const running = node('CumSum', [node('Cast', [node('Gather', [flatFeatures, order], 'sorted_features', { axis: 0 })], 'sorted_f64', { to: ONNX_DOUBLE }), zero], 'running');
  // A row ends its cell when the next row's key differs (the last row is compared with -1).
  const nextKey = node('Concat', [node('Slice', [sortedKey, i64([1], 's'), i64([Number.MAX_SAFE_INTEGER], 'e')], 'next'), i64([-1], 'sentinel')], 'next_key', { axis: 0 });
  const ends = node('Reshape', [node('NonZero', [node('Not', [node('Equal', [sortedKey, nextKey], 'same')], 'is_last')], 'last_rows'), i64([-1], 'flat')], 'ends');
  const atEnds = node('Gather', [running, ends], 'running_at_ends', { axis: 0 });
  const zeroRow = node('Cast', [node('ConstantOfShape', [node('Concat', [i64([1], 'one'), channels], 'zero_row_shape', { axis: 0 })], 'zero_row', { value: { tensor: { dtype: 'float32', dims: [1], values: [0] } } })], 'zero_row_f64', { to: ONNX_DOUBLE });
  const before = node('Concat', [zeroRow, node('Slice', [atEnds, i64([0], 's'), i64([-1], 'e')], 'previous')], 'running_before', { axis: 0 });
  const sums = node('Cast', [node('Sub', [atEnds, before], 'sums_f64')], 'sums', { to: ONNX_FLOAT });
  const cellKeys = node('Unsqueeze', [node('Gather', [sortedKey, ends], 'cell_keys', { axis: 0 }), i64([-1], 'axis')], 'cell_index');
  const zeros = node('ConstantOfShape', [node('Concat', [outRows, channels], 'data_shape', { axis: 0 })], 'zeros', {
    value: { tensor: { dtype: 'float32', dims: [1], values: [0] } },
  });
  const summed = node('ScatterND', [zeros, cellKeys, sums], 'summed');
  const perSample = node('Reshape', [summed, node('Concat', [i64([-1, rows], 'sample_rows'), channels], 'sample_shape', { axis: 0 })], 'per_sample');
  const kept = node('Slice', [perSample, i64([0], 's'), i64([numCells], 'e'), i64([1], 'a')], 'kept');
  emit.add('Reshape', [kept, i64([-1, grid.h, grid.w, grid.c], 'grid_shape')], [output]);
}

/**
 * {@link emitCellSum} for a cell index fixed at export (a fixed camera rig): the same index for every
 * sample, `cells` its host values (one sample's; a batch-1 index). The sort is done here on the
 * host, so the file only gathers rows in cell order, takes a float64 running sum, differences it at
 * segment bounds, and gathers the segment sums into the grid — no TopK, NonZero or ScatterND at run
 * time, and any batch size runs.
 */
export function emitFixedCellSum(
  emit: OnnxNodeEmitter,
  features: string,
  rank: 2 | 3,
  cells: ArrayLike<number>,
  numCells: number,
  grid: { h: number; w: number; c: number },
  output: string,
): void {
  const i64 = (v: ArrayLike<number>, hint: string) => emit.constant(v, [v.length], 'int64', hint);
  const node = (op: string, inputs: string[], hint: string, attrs = {}) => {
    const out = emit.temp(hint);
    emit.add(op, inputs, [out], attrs);
    return out;
  };
  // Gather indices stored in 16 bits when they fit (frustum sizes do), widened by a Cast that
  // onnxruntime folds at load: the baked geometry costs 2 bytes a point in the file.
  const indices = (v: number[], hint: string) =>
    v.every((x) => x <= 32767)
      ? node('Cast', [emit.constant(v, [v.length], 'int16', `${hint}_int16`)], hint, { to: ONNX_INT32 })
      : emit.constant(v, [v.length], 'int32', hint);
  // Points inside the grid, in cell order (stable, so a cell's points keep their order).
  const kept: number[] = [];
  for (let p = 0; p < cells.length; p++) if (cells[p] >= 0 && cells[p] < numCells) kept.push(p);
  kept.sort((a, b) => cells[a] - cells[b] || a - b);
  // Segment s holds sorted rows [bounds[s], bounds[s + 1]); bounds[0] = 0.
  const bounds: number[] = [0];
  const ends: number[] = [];
  const slot = new Array<number>(numCells);
  for (let k = 0; k < kept.length; k++) {
    if (k === kept.length - 1 || cells[kept[k]] !== cells[kept[k + 1]]) {
      ends.push(k);
      bounds.push(k + 1);
    }
  }
  // Empty cells read the zero row appended after the segment sums.
  slot.fill(ends.length);
  ends.forEach((e, s) => (slot[cells[kept[e]]] = s));
  const axis = rank - 2;
  if (kept.length === 0) {
    const zeros = node('Mul', [node('ReduceSum', [features, i64([axis], 'axes')], 'any_sum', { keepdims: 1 }), emit.constant([0], [], 'float32', 'zero')], 'zero_row');
    const tiled = node('Gather', [zeros, emit.constant(new Array(numCells).fill(0), [numCells], 'int64', 'cell_rows')], 'empty', { axis });
    emit.add('Reshape', [tiled, i64([-1, grid.h, grid.w, grid.c], 'grid_shape')], [output]);
    return;
  }
  const sorted = node('Cast', [node('Gather', [features, indices(kept, 'cell_order')], 'sorted', { axis })], 'sorted_f64', { to: ONNX_DOUBLE });
  const running = node('CumSum', [sorted, emit.constant([axis], [], 'int64', 'axis')], 'running');
  // With a zero row in front, the running sum at bounds[s] is the sum of every row before segment
  // s, so one gather at the bounds and a difference of neighbours give every segment's sum.
  const before = rank === 3 ? [0, 1, 0, 0, 0, 0] : [1, 0, 0, 0];
  const prefix = node('Pad', [running, i64(before, 'prefix_pads')], 'running_from_zero');
  const atBounds = node('Gather', [prefix, indices(bounds, 'segment_bounds')], 'bound_rows', { axis });
  const slice = (from: number, to: number, hint: string) =>
    node('Slice', [atBounds, i64([from], `${hint}_start`), i64([to], `${hint}_end`), i64([axis], `${hint}_axis`)], hint);
  const sums = node('Sub', [slice(1, bounds.length, 'upper'), slice(0, bounds.length - 1, 'lower')], 'sums_f64');
  const pads = rank === 3 ? [0, 0, 0, 0, 1, 0] : [0, 0, 1, 0];
  const padded = node('Pad', [node('Cast', [sums], 'sums', { to: ONNX_FLOAT }), i64(pads, 'pads')], 'with_zero_row');
  const gridded = node('Gather', [padded, indices(slot, 'cell_slots')], 'cells', { axis });
  emit.add('Reshape', [gridded, i64([-1, grid.h, grid.w, grid.c], 'grid_shape')], [output]);
}
