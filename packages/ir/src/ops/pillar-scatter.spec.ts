import * as tf from '@tensorflow/tfjs';
import { run } from '../interpreter';
import { Rng } from '../rng';
import { checkGradients, expectClose, expectNoLeak, onnxParity, randomTensor, singleOpGraph } from '../testing';

/** Random coords with about one row in five padding (−1) and a few past the grid. */
function randomCoords(lead: number[], bounds: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const n = lead.reduce((a, b) => a * b, 1);
  const data: number[] = [];
  for (let p = 0; p < n; p++) {
    const pad = rng.next() < 0.2;
    for (const limit of bounds) data.push(pad ? -1 : rng.int(limit + 1));
  }
  return tf.tensor(data, [...lead, bounds.length], 'int32');
}

/** Float64 scatter-sum, the reference; `batched` takes the batch from the leading dim. */
function naiveScatter(f: tf.Tensor, xy: tf.Tensor, batch: number, h: number, w: number): number[] {
  const batched = f.rank === 3;
  const c = f.shape[f.rank - 1];
  const cols = xy.shape[xy.rank - 1];
  const rows = f.size / c;
  const perSample = batched ? f.shape[1]! : rows;
  const fd = f.dataSync();
  const xd = xy.dataSync();
  const out = new Array<number>(batch * h * w * c).fill(0);
  for (let p = 0; p < rows; p++) {
    const at = Array.from(xd.slice(p * cols, (p + 1) * cols));
    const [b, i, j] = cols === 3 ? at : [batched ? Math.floor(p / perSample) : 0, ...at];
    if (at.some((v) => v < 0) || b >= batch || i >= h || j >= w) continue;
    for (let k = 0; k < c; k++) out[((b * h + i) * w + j) * c + k] += fd[p * c + k];
  }
  return out;
}

function scatter(features: tf.Tensor, coords: tf.Tensor, attrs: Record<string, number>) {
  return singleOpGraph('pillar_scatter', [{ name: 'features', value: features }, { name: 'coords', value: coords }], attrs);
}

describe('pillar_scatter', () => {
  it('puts a pillar at (batch, x-row, y-col), sums duplicates and ignores −1 padding', () => {
    const features = tf.tensor2d([[1], [2], [7], [4], [9]]);
    const coords = tf.tensor2d([[1, 2, 0], [1, 2, 0], [-1, -1, -1], [0, 0, 3], [0, 3, 0]], [5, 3], 'int32');
    const { graph, params, feeds } = scatter(features, coords, { gridH: 3, gridW: 4, batch: 2 });
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expect(y.shape).toEqual([2, 3, 4, 1]);
    const expected = tf.buffer([2, 3, 4, 1]);
    expected.set(3, 1, 2, 0, 0);
    expected.set(4, 0, 0, 3, 0);
    expect(Array.from(y.dataSync())).toEqual(Array.from(expected.values));
  });

  it.each([
    { name: 'coords with a batch column', f: [30, 3], lead: [30], bounds: [2, 4, 5], batch: 2 },
    { name: 'coords without batch', f: [30, 3], lead: [30], bounds: [4, 5], batch: 1 },
    { name: 'batched pillars', f: [2, 15, 3], lead: [2, 15], bounds: [4, 5], batch: 2 },
  ])('matches a direct scatter and onnxruntime: $name', async ({ f, lead, bounds, batch }) => {
    const features = randomTensor(f, 1);
    const coords = randomCoords(lead, bounds, 2);
    const attrs: Record<string, number> = f.length === 3 ? { gridH: 4, gridW: 5 } : { gridH: 4, gridW: 5, batch };
    const { graph, params, feeds } = scatter(features, coords, attrs);
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expect(y.shape).toEqual(graph.values[graph.outputs[0]].shape);
    expectClose(y, naiveScatter(features, coords, batch, 4, 5), 1e-6);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
  });

  it('has gradients that agree with finite differences', () => {
    const features = randomTensor([20, 3], 3);
    const coords = randomCoords([20], [2, 3, 3], 4);
    const { graph, params, feeds } = scatter(features, coords, { gridH: 3, gridW: 3, batch: 2 });
    const weight = randomTensor([2, 3, 3, 3], 5);
    checkGradients((f) => tf.sum(tf.mul(run(graph, params, { ...feeds, features: f }).outputs[graph.outputs[0]], weight)) as tf.Scalar, [features]);
  });

  it('rejects coords of the wrong width, naming the node', () => {
    expect(() => scatter(tf.zeros([4, 2]), tf.zeros([4, 4], 'int32'), { gridH: 2, gridW: 2 })).toThrow(/node 'pillar_scatter'.*coords must be \[P, 3\] or \[P, 2\]/);
    expect(() => scatter(tf.zeros([4, 2]), tf.zeros([4, 3]), { gridH: 2, gridW: 2 })).toThrow(/node 'pillar_scatter'.*coords must be int32/);
  });

  it('keeps the tensor count flat across runs and gradient steps', () => {
    const { graph, params, feeds } = scatter(randomTensor([2, 6, 3], 8), randomCoords([2, 6], [3, 3], 9), { gridH: 3, gridW: 3 });
    expectNoLeak(() => {
      run(graph, params, feeds).outputs[graph.outputs[0]].dispose();
      tf.grad((f: tf.Tensor) => run(graph, params, { ...feeds, features: f }).outputs[graph.outputs[0]].sum())(feeds.features).dispose();
    });
  });
});
