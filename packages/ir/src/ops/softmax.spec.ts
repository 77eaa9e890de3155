import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../builder';
import { run } from '../interpreter';
import { ParamStore } from '../params';
import {
  checkGradients,
  expectClose,
  expectNoLeak,
  onnxParity,
  randomTensor,
  singleOpGraph,
} from '../testing';

/** Softmax along `axis` of a row-major tensor in float64. */
function softmaxRef(x: tf.Tensor, axis: number): number[] {
  const d = x.dataSync();
  const n = x.shape[axis];
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Array<number>(d.length);
  for (let base = 0; base < d.length; base++) {
    if (Math.floor(base / inner) % n !== 0) continue;
    const idx = Array.from({ length: n }, (_, k) => base + k * inner);
    const max = Math.max(...idx.map((i) => d[i]));
    const total = idx.reduce((s, i) => s + Math.exp(d[i] - max), 0);
    idx.forEach((i) => (out[i] = Math.exp(d[i] - max) / total));
  }
  return out;
}

describe('softmax', () => {
  it.each([
    [-1, 2],
    [1, 1],
    [0, 0],
    [-2, 1],
  ])('matches a direct computation and onnxruntime along axis %i', async (axis, resolved) => {
    const x = randomTensor([3, 4, 5], 1, 4);
    const { graph, params, feeds } = singleOpGraph('softmax', [{ name: 'x', value: x }], { axis });
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expectClose(y, softmaxRef(x, resolved), 1e-6);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
  });

  it.each([
    [0, [1, 1, 0, 0]],
    [-1, [0.5, 0.5, 0, 1]],
  ])('stays finite for large logits along axis %i (hand-computed)', (axis, expected) => {
    const { graph, params, feeds } = singleOpGraph(
      'softmax',
      [
        {
          name: 'x',
          value: tf.tensor2d([
            [1000, 1000],
            [-1000, 0],
          ]),
        },
      ],
      { axis },
    );
    expectClose(run(graph, params, feeds).outputs[graph.outputs[0]], expected, 1e-6);
  });

  it('keeps an unknown batch dimension', async () => {
    const g = new GraphBuilder('batch');
    const y = g.op('softmax', [g.input('x', [-1, 6])]);
    g.output(y);
    const graph = g.build();
    expect(graph.values[y].shape).toEqual([-1, 6]);
    expect(await onnxParity(graph, new ParamStore(), { x: randomTensor([2, 6], 3) })).toBeLessThanOrEqual(
      1e-4,
    );
  });

  it.each([-1, 0])('has a gradient along axis %i that agrees with finite differences', (axis) => {
    const x = randomTensor([3, 4], 2, 2);
    const weights = randomTensor([3, 4], 3);
    const { graph, params } = singleOpGraph('softmax', [{ name: 'x', value: x }], { axis });
    checkGradients(
      (xi) => run(graph, params, { x: xi }).outputs[graph.outputs[0]].mul(weights).sum() as tf.Scalar,
      [x],
    );
  });

  it('rejects an axis out of range, naming the node', () => {
    expect(() => singleOpGraph('softmax', [{ name: 'x', value: tf.zeros([2, 3]) }], { axis: 2 })).toThrow(
      /node 'softmax'.*axis 2 is out of range for rank 2/,
    );
  });

  it('keeps the tensor count flat across runs', () => {
    const { graph, params, feeds } = singleOpGraph(
      'softmax',
      [{ name: 'x', value: randomTensor([3, 4], 1) }],
      { axis: 0 },
    );
    expectNoLeak(() => {
      const r = run(graph, params, feeds);
      Object.values(r.outputs).forEach((t) => t.dispose());
    });
  });
});
