import * as tf from '@tensorflow/tfjs';
import { run } from '../interpreter';
import { checkGradients, expectClose, expectNoLeak, onnxParity, randomTensor, singleOpGraph } from '../testing';

/** Float64 bilinear sampling with zero padding per neighbour, the reference. */
function naiveSample(f: tf.Tensor, p: tf.Tensor): number[] {
  const [batch, h, w, c] = f.shape;
  const k = p.shape[1]!;
  const fd = f.dataSync();
  const pd = p.dataSync();
  const out: number[] = [];
  const at = (b: number, i: number, j: number, ch: number) => (i < 0 || i >= h || j < 0 || j >= w ? 0 : fd[((b * h + i) * w + j) * c + ch]);
  for (let b = 0; b < batch; b++)
    for (let q = 0; q < k; q++) {
      const [r, col] = [pd[(b * k + q) * 2], pd[(b * k + q) * 2 + 1]];
      const [i, j] = [Math.floor(r), Math.floor(col)];
      const [u, v] = [r - i, col - j];
      for (let ch = 0; ch < c; ch++) {
        out.push(
          (1 - u) * (1 - v) * at(b, i, j, ch) + (1 - u) * v * at(b, i, j + 1, ch) + u * (1 - v) * at(b, i + 1, j, ch) + u * v * at(b, i + 1, j + 1, ch),
        );
      }
    }
  return out;
}

/** Points spread over the map and a pixel beyond each border, in (row, col). */
function randomPoints(batch: number, k: number, h: number, w: number, seed: number): tf.Tensor {
  const u = randomTensor([batch, k, 2], seed).dataSync();
  const data = Array.from(u, (v, i) => ((v + 1) / 2) * ((i % 2 === 0 ? h : w) + 2) - 1.5);
  return tf.tensor3d(data, [batch, k, 2]);
}

function sampleGraph(features: tf.Tensor, points: tf.Tensor) {
  return singleOpGraph('grid_sample', [{ name: 'features', value: features }, { name: 'points', value: points }]);
}

describe('grid_sample', () => {
  it('returns pixels at their centres, blends between them and reads zeros outside', () => {
    // 2×3 map, one channel: value = 10·row + col.
    const f = tf.tensor4d([0, 1, 2, 10, 11, 12], [1, 2, 3, 1]);
    const p = tf.tensor3d([[[1, 2], [0.5, 0.5], [0, 2.5], [-1, 0], [0.25, 1]]]);
    const { graph, params, feeds } = sampleGraph(f, p);
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expect(y.shape).toEqual([1, 5, 1]);
    expectClose(y, [12, 5.5, 1, 0, 3.5], 1e-6);
  });

  it('matches direct bilinear sampling and onnxruntime GridSample on a non-square map', async () => {
    const f = randomTensor([2, 5, 7, 3], 1);
    const p = randomPoints(2, 20, 5, 7, 2);
    const { graph, params, feeds } = sampleGraph(f, p);
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expect(y.shape).toEqual([2, 20, 3]);
    expectClose(y, naiveSample(f, p), 1e-6);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
  });

  it('has gradients in features and points that agree with finite differences', () => {
    const f = randomTensor([1, 4, 6, 2], 3);
    const p = randomPoints(1, 8, 4, 6, 4);
    const { graph, params, feeds } = sampleGraph(f, p);
    const w = randomTensor([1, 8, 2], 5);
    const loss = (fi: tf.Tensor, pi: tf.Tensor) => tf.sum(tf.mul(run(graph, params, { features: fi, points: pi }).outputs[graph.outputs[0]], w)) as tf.Scalar;
    expect(feeds.points).toBe(p);
    checkGradients(loss, [f, p], { eps: 1e-3, samples: 16 });
  });

  it('rejects points without a (row, col) pair, naming the node', () => {
    expect(() => sampleGraph(tf.zeros([1, 4, 4, 2]), tf.zeros([1, 3, 3]))).toThrow(/node 'grid_sample'.*points must be \[B, K, 2\]/);
  });

  it('keeps the tensor count flat across runs and gradient steps', () => {
    const { graph, params, feeds } = sampleGraph(randomTensor([1, 3, 4, 2], 6), randomPoints(1, 5, 3, 4, 7));
    expectNoLeak(() => {
      run(graph, params, feeds).outputs[graph.outputs[0]].dispose();
      tf.grads((fi: tf.Tensor, pi: tf.Tensor) => run(graph, params, { features: fi, points: pi }).outputs[graph.outputs[0]].sum())([feeds.features, feeds.points]).forEach((g) => g.dispose());
    });
  });
});
