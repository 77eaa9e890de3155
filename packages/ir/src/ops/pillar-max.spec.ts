import * as tf from '@tensorflow/tfjs';
import { run } from '../interpreter';
import { Rng } from '../rng';
import { checkGradients, expectClose, expectNoLeak, onnxParity, randomTensor, singleOpGraph } from '../testing';

/** A 0/1 mask with real points first in each pillar (as the pillariser writes them), some empty. */
function prefixMask(p: number, m: number, seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const data: number[] = [];
  for (let i = 0; i < p; i++) {
    const count = i === 0 ? 0 : rng.int(m + 1);
    for (let j = 0; j < m; j++) data.push(j < count ? 1 : 0);
  }
  return tf.tensor2d(data, [p, m]);
}

/** Float64 masked max with 0 for empty pillars, the reference. */
function naiveMax(x: tf.Tensor, mask: tf.Tensor): number[] {
  const [p, m, c] = x.shape;
  const xd = x.dataSync();
  const md = mask.dataSync();
  const out: number[] = [];
  for (let i = 0; i < p; i++)
    for (let k = 0; k < c; k++) {
      let best = -Infinity;
      for (let j = 0; j < m; j++) if (md[i * m + j] !== 0) best = Math.max(best, xd[(i * m + j) * c + k]);
      out.push(best === -Infinity ? 0 : best);
    }
  return out;
}

function maxGraph(x: tf.Tensor, mask: tf.Tensor) {
  return singleOpGraph('pillar_max', [{ name: 'points', value: x }, { name: 'mask', value: mask }]);
}

describe('pillar_max', () => {
  it('ignores padded points, gives 0 for an empty pillar and routes the gradient to the argmax', () => {
    // Pillar 0: the padded point holds the largest values; pillar 1 has no real points.
    const x = tf.tensor3d([[[1, -5], [3, -2], [100, 100]], [[7, 7], [8, 8], [9, 9]]]);
    const mask = tf.tensor2d([[1, 1, 0], [0, 0, 0]]);
    const { graph, params, feeds } = maxGraph(x, mask);
    const f = (xi: tf.Tensor) => run(graph, params, { ...feeds, points: xi }).outputs[graph.outputs[0]];
    expect(Array.from(f(x).dataSync())).toEqual([3, -2, 0, 0]);
    const dy = tf.tensor2d([[10, 20], [30, 40]]);
    const grad = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(f(xi), dy)))(x);
    expect(Array.from(grad.dataSync())).toEqual([0, 0, 10, 20, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('matches a direct masked max and onnxruntime', async () => {
    const x = randomTensor([12, 5, 4], 1);
    const mask = prefixMask(12, 5, 2);
    const { graph, params, feeds } = maxGraph(x, mask);
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expect(y.shape).toEqual([12, 4]);
    expectClose(y, naiveMax(x, mask), 0);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
    expect(await onnxParity(graph, params, feeds, { opset: 18 })).toBeLessThanOrEqual(1e-4);
  });

  it('routes the gradient to the first of tied maxima, as tf.argMax would, on the default backend and cpu', async () => {
    // Values on a coarse grid with many zeros (as after a ReLU), so most pillars have ties.
    const [p, m, c] = [40, 6, 5];
    const raw = Array.from(randomTensor([p, m, c], 8).dataSync(), (v) => Math.max(0, Math.round(v * 2) / 2));
    const maskData = prefixMask(p, m, 9).dataSync();
    const w = randomTensor([p, c], 10);
    const wd = w.dataSync();
    const expected = new Array<number>(p * m * c).fill(0);
    for (let i = 0; i < p; i++)
      for (let k = 0; k < c; k++) {
        let best = -Infinity;
        let at = -1;
        for (let j = 0; j < m; j++) {
          const v = raw[(i * m + j) * c + k];
          if (maskData[i * m + j] !== 0 && v > best) [best, at] = [v, j];
        }
        if (at >= 0) expected[(i * m + at) * c + k] = wd[i * c + k];
      }
    const previous = tf.getBackend();
    for (const backend of [previous, 'cpu']) {
      await tf.setBackend(backend);
      const x = tf.tensor3d(raw, [p, m, c]);
      const { graph, params, feeds } = maxGraph(x, tf.tensor2d(Array.from(maskData), [p, m]));
      const grad = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(run(graph, params, { ...feeds, points: xi }).outputs[graph.outputs[0]], tf.tensor2d(Array.from(wd), [p, c]))))(x);
      // + 0: a 0 · negative product is −0.
      expect(Array.from(grad.dataSync(), (v) => v + 0)).toEqual(expected);
    }
    await tf.setBackend(previous);
  });

  it('has gradients that agree with finite differences', () => {
    const x = randomTensor([6, 4, 3], 3);
    const mask = prefixMask(6, 4, 4);
    const { graph, params, feeds } = maxGraph(x, mask);
    const w = randomTensor([6, 3], 5);
    checkGradients((xi) => tf.sum(tf.mul(run(graph, params, { ...feeds, points: xi }).outputs[graph.outputs[0]], w)) as tf.Scalar, [x], { eps: 1e-3, samples: 30 });
  });

  it('rejects a mask that does not match the points, naming the node', () => {
    expect(() => maxGraph(tf.zeros([4, 3, 2]), tf.zeros([4, 2]))).toThrow(/node 'pillar_max'.*mask \[4,2\] does not match/);
    expect(() => maxGraph(tf.zeros([4, 3]), tf.zeros([4]))).toThrow(/node 'pillar_max'.*pointFeatures must be \[P, M, C\]/);
  });

  it('keeps the tensor count flat across runs and gradient steps', () => {
    const { graph, params, feeds } = maxGraph(randomTensor([5, 3, 2], 6), prefixMask(5, 3, 7));
    expectNoLeak(() => {
      run(graph, params, feeds).outputs[graph.outputs[0]].dispose();
      tf.grad((xi: tf.Tensor) => run(graph, params, { ...feeds, points: xi }).outputs[graph.outputs[0]].sum())(feeds.points).dispose();
    });
  });
  describe('with a bias and ReLU (the pooled-before-bias form)', () => {
    const fusedGraph = (x: tf.Tensor, mask: tf.Tensor, bias: tf.Tensor) =>
      singleOpGraph('pillar_max', [{ name: 'points', value: x }, { name: 'mask', value: mask }, { name: 'bias', value: bias }], { relu: true });

    it('gives relu(max + bias) for a non-empty pillar and 0 for an empty one, in tfjs and onnxruntime', async () => {
      const x = randomTensor([12, 5, 4], 8);
      const mask = prefixMask(12, 5, 9);
      const bias = tf.tensor1d([0.5, -0.5, 2, -2]);
      const { graph, params, feeds } = fusedGraph(x, mask, bias);
      const y = run(graph, params, feeds).outputs[graph.outputs[0]];
      const md = mask.dataSync();
      const expected = naiveMax(x, mask).map((v, i) => {
        const pillar = Math.floor(i / 4);
        const empty = Array.from(md.slice(pillar * 5, pillar * 5 + 5)).every((m) => m === 0);
        return empty ? 0 : Math.max(0, v + [0.5, -0.5, 2, -2][i % 4]);
      });
      expectClose(y, expected, 1e-6);
      expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-5);
    });

    it('has gradients for the points and the bias that agree with finite differences', () => {
      const x = randomTensor([6, 4, 3], 10);
      const mask = prefixMask(6, 4, 11);
      const bias = randomTensor([3], 12);
      const { graph, params, feeds } = fusedGraph(x, mask, bias);
      const w = randomTensor([6, 3], 13);
      const loss = (xi: tf.Tensor, bi: tf.Tensor) => tf.sum(tf.mul(run(graph, params, { ...feeds, points: xi, bias: bi }).outputs[graph.outputs[0]], w)) as tf.Scalar;
      checkGradients((xi) => loss(xi, bias), [x], { eps: 1e-3, samples: 30 });
      checkGradients((bi) => loss(x, bi), [bias], { eps: 1e-3, samples: 3 });
    });

    it('rejects a bias of the wrong length', () => {
      expect(() => fusedGraph(tf.zeros([4, 3, 2]), tf.zeros([4, 3]), tf.zeros([3]))).toThrow(/bias \[3\] does not match the channels/);
    });
  });
});
