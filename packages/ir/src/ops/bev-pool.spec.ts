import * as tf from '@tensorflow/tfjs';
import { onnx } from 'onnx-proto';
import { run } from '../interpreter';
import { Rng } from '../rng';
import { exportOnnx } from '../onnx/export';
import { createOrtSession, runOrt } from '../onnx/ort';
import { GraphBuilder } from '../builder';
import { ParamStore } from '../params';
import { checkGradients, expectClose, expectNoLeak, onnxParity, randomTensor, singleOpGraph } from '../testing';

/** Random cell ids in [-2, cells + 2): some dropped on both sides, many duplicates. */
function randomCells(shape: number[], cells: number, seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Int32Array.from({ length: n }, () => rng.int(cells + 4) - 2), shape, 'int32');
}

/** Float64 segment sum, the reference. */
function naivePool(f: tf.Tensor, idx: tf.Tensor, h: number, w: number): number[] {
  const c = f.shape[f.rank - 1];
  const batch = f.rank === 3 ? f.shape[0] : 1;
  const n = f.size / c / batch;
  const fd = f.dataSync();
  const id = idx.dataSync();
  const out = new Array<number>(batch * h * w * c).fill(0);
  for (let b = 0; b < batch; b++)
    for (let p = 0; p < n; p++) {
      const cell = id[b * n + p];
      if (cell < 0 || cell >= h * w) continue;
      for (let k = 0; k < c; k++) out[(b * h * w + cell) * c + k] += fd[(b * n + p) * c + k];
    }
  return out;
}

function pool(features: tf.Tensor, cells: tf.Tensor, gridH: number, gridW: number) {
  return singleOpGraph('bev_pool', [{ name: 'features', value: features }, { name: 'cells', value: cells }], { gridH, gridW });
}

describe('bev_pool', () => {
  it('puts a point into its cell (row ↔ x, column ↔ y), sums duplicates and ignores dropped points', () => {
    const features = tf.tensor2d([[1, 10], [2, 20], [100, 100], [3, 30], [500, 500]]);
    // Flat cell i·gridW + j on a 3×4 grid: (1, 2) twice, dropped, (2, 3), past the end.
    const cells = tf.tensor1d([1 * 4 + 2, 6, -1, 2 * 4 + 3, 12], 'int32');
    const { graph, params, feeds } = pool(features, cells, 3, 4);
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expect(y.shape).toEqual([1, 3, 4, 2]);
    const expected = tf.buffer([1, 3, 4, 2]);
    expected.set(3, 0, 1, 2, 0);
    expected.set(30, 0, 1, 2, 1);
    expected.set(3, 0, 2, 3, 0);
    expected.set(30, 0, 2, 3, 1);
    expect(Array.from(y.dataSync())).toEqual(Array.from(expected.values));
  });

  it.each([
    { name: 'unbatched', shape: [40, 3] },
    { name: 'batched', shape: [2, 30, 4] },
  ])('matches a direct segment sum and onnxruntime: $name', async ({ shape }) => {
    const features = randomTensor(shape, 1);
    const cells = randomCells(shape.slice(0, -1), 5 * 6, 2);
    const { graph, params, feeds } = pool(features, cells, 5, 6);
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expect(y.shape).toEqual(graph.values[graph.outputs[0]].shape);
    expectClose(y, naivePool(features, cells, 5, 6), 1e-6);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
  });

  it('has a gradient that gathers dy by cell and gives dropped points zero', () => {
    const features = randomTensor([2, 20, 3], 3);
    const cells = randomCells([2, 20], 4 * 3, 4);
    const { graph, params, feeds } = pool(features, cells, 4, 3);
    const weight = randomTensor([2, 4, 3, 3], 5);
    const loss = (f: tf.Tensor) => tf.sum(tf.mul(run(graph, params, { ...feeds, features: f }).outputs[graph.outputs[0]], weight)) as tf.Scalar;
    checkGradients(loss, [features]);
    const grad = tf.grad(loss)(features);
    const ids = cells.dataSync();
    const w = weight.dataSync();
    const expected = Array.from({ length: 2 * 20 * 3 }, (_, i) => {
      const [b, p, k] = [Math.floor(i / 60), Math.floor(i / 3) % 20, i % 3];
      const cell = ids[b * 20 + p];
      return cell < 0 || cell >= 12 ? 0 : w[(b * 12 + cell) * 3 + k];
    });
    expectClose(grad, expected, 1e-6);
  });

  it('pools a full-size camera frustum forward and backward (values against the direct sum)', () => {
    const features = randomTensor([6 * 24 * 8 * 22, 32], 6);
    const cells = randomCells([6 * 24 * 8 * 22], 64 * 64, 7);
    const { graph, params, feeds } = pool(features, cells, 64, 64);
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expectClose(y, naivePool(features, cells, 64, 64), 1e-5);
    const grad = tf.grad((f: tf.Tensor) => run(graph, params, { ...feeds, features: f }).outputs[graph.outputs[0]].square().sum())(features);
    expect(grad.shape).toEqual(features.shape);
    tf.dispose([y, grad]);
  });

  it('exports a sum onnxruntime computes the same on every run with several threads (many points a cell)', async () => {
    // ScatterND 'add' loses updates to shared cells when onnxruntime runs it on 2+ threads; the
    // exported form must not depend on the thread count.
    const features = randomTensor([2, 6 * 24 * 8 * 22, 8], 10);
    const cells = randomCells([2, 6 * 24 * 8 * 22], 16 * 16, 11);
    const { graph, params, feeds } = pool(features, cells, 16, 16);
    const reference = naivePool(features, cells, 16, 16);
    const session = await createOrtSession(exportOnnx(graph, params), { threads: 2 });
    const runs: Float32Array[] = [];
    for (let i = 0; i < 6; i++) runs.push((await runOrt(session, feeds))[graph.outputs[0]].data as Float32Array);
    for (const r of runs) {
      expect(Array.from(r)).toEqual(Array.from(runs[0]));
      let worst = 0;
      for (let i = 0; i < r.length; i++) worst = Math.max(worst, Math.abs(r[i] - reference[i]) / Math.max(1, Math.abs(reference[i])));
      expect(worst).toBeLessThanOrEqual(1e-5);
    }
  });

  it('exports with the cell index baked in (a fixed rig): no cells input, no sort at run time, the same sums for any batch', async () => {
    const points = 6 * 8 * 22;
    const cells = randomCells([1, points], 8 * 8, 13);
    // The file takes any batch; every sample shares the rig's index.
    const b = new GraphBuilder('rig');
    b.output(b.op('bev_pool', [b.input('features', [-1, points, 4]), b.input('cells', [-1, points], 'int32')], { gridH: 8, gridW: 8 }));
    const graph = b.build();
    const params = ParamStore.init(graph, 0);
    const model = exportOnnx(graph, params, { constantInputs: { cells: { data: cells.dataSync() as Int32Array, dims: [1, points] } } });
    const ops = onnx.ModelProto.decode(model).graph!.node!.map((n) => n.opType);
    for (const op of ['TopK', 'NonZero', 'ScatterND']) expect(ops).not.toContain(op);
    expect(onnx.ModelProto.decode(exportOnnx(graph, params)).graph!.node!.map((n) => n.opType)).toContain('TopK');
    const session = await createOrtSession(model, { threads: 1 });
    expect(session.inputNames).toEqual(['features']);
    for (const batch of [1, 3]) {
      const features = randomTensor([batch, points, 4], 20 + batch);
      const got = (await runOrt(session, { features }))[graph.outputs[0]].data;
      const tiled = tf.tile(cells, [batch, 1]);
      const reference = naivePool(features, tiled, 8, 8);
      tiled.dispose();
      expect(got).toHaveLength(reference.length);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - reference[i]) / Math.max(1, Math.abs(reference[i])));
      expect(worst).toBeLessThanOrEqual(1e-5);
      features.dispose();
    }
    // Every point outside the grid: an all-zero grid.
    const none = exportOnnx(graph, params, { constantInputs: { cells: { data: new Int32Array(points).fill(-1), dims: [1, points] } } });
    const ones = tf.ones([2, points, 4]);
    const empty = await runOrt(await createOrtSession(none, { threads: 1 }), { features: ones });
    ones.dispose();
    expect(Array.from(empty[graph.outputs[0]].data).every((v) => v === 0)).toBe(true);
    expect(empty[graph.outputs[0]].dims).toEqual([2, 8, 8, 4]);
    // A value that does not fit the input is refused before anything is written.
    expect(() => exportOnnx(graph, params, { constantInputs: { cells: { data: new Int32Array(3), dims: [1, 3] } } })).toThrow(/constant input 'cells': shape \[1,3\] does not fit/);
    expect(() => exportOnnx(graph, params, { constantInputs: { cell: { data: new Int32Array(3), dims: [3] } } })).toThrow(/no such input/);
    cells.dispose();
    params.dispose();
  });

  it('rejects float cell indices and mismatched leading shapes, naming the node', () => {
    expect(() => pool(tf.zeros([4, 2]), tf.zeros([4]), 2, 2)).toThrow(/node 'bev_pool'.*cellIndex must be int32/);
    expect(() => pool(tf.zeros([2, 4, 2]), tf.zeros([2, 5], 'int32'), 2, 2)).toThrow(/node 'bev_pool'.*does not match features/);
  });

  it('keeps the tensor count flat across runs and gradient steps', () => {
    const { graph, params, feeds } = pool(randomTensor([2, 10, 3], 8), randomCells([2, 10], 9, 9), 3, 3);
    expectNoLeak(() => {
      const r = run(graph, params, feeds);
      Object.values(r.outputs).forEach((t) => t.dispose());
      tf.grad((f: tf.Tensor) => run(graph, params, { ...feeds, features: f }).outputs[graph.outputs[0]].sum())(feeds.features).dispose();
    });
  });
});
