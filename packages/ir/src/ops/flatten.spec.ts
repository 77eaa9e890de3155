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

describe('flatten', () => {
  it.each([
    [undefined, [2, 60]],
    [0, [1, 120]],
    [3, [24, 5]],
    [4, [120, 1]],
    [-2, [6, 20]],
  ])(
    'keeps row-major order and matches onnxruntime: axis %s gives %j (hand-computed)',
    async (axis, expected) => {
      const x = randomTensor([2, 3, 4, 5], 1);
      const { graph, params, feeds } = singleOpGraph(
        'flatten',
        [{ name: 'x', value: x }],
        axis === undefined ? {} : { axis },
      );
      const y = run(graph, params, feeds).outputs[graph.outputs[0]];
      expect(y.shape).toEqual(expected);
      expect(graph.values[graph.outputs[0]].shape).toEqual(expected);
      expectClose(y, x.dataSync(), 0);
      expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
    },
  );

  it('keeps an unknown batch dimension', async () => {
    const g = new GraphBuilder('batch');
    const y = g.op('flatten', [g.input('x', [-1, 2, 3])]);
    g.output(y);
    const graph = g.build();
    expect(graph.values[y].shape).toEqual([-1, 6]);
    const feeds = { x: randomTensor([4, 2, 3], 2) };
    expect(run(graph, new ParamStore(), feeds).outputs[y].shape).toEqual([4, 6]);
    expect(await onnxParity(graph, new ParamStore(), feeds)).toBeLessThanOrEqual(1e-4);
  });

  it('has a gradient that agrees with finite differences', () => {
    const x = randomTensor([2, 2, 3], 2);
    const weights = randomTensor([2, 6], 3);
    const { graph, params } = singleOpGraph('flatten', [{ name: 'x', value: x }]);
    checkGradients(
      (xi) => run(graph, params, { x: xi }).outputs[graph.outputs[0]].mul(weights).sum() as tf.Scalar,
      [x],
    );
  });

  it('rejects an axis past the rank, naming the node', () => {
    expect(() => singleOpGraph('flatten', [{ name: 'x', value: tf.zeros([2, 3]) }], { axis: 3 })).toThrow(
      /node 'flatten'.*axis 3 is out of range for rank 2/,
    );
  });

  it('keeps the tensor count flat across runs', () => {
    const { graph, params, feeds } = singleOpGraph('flatten', [
      { name: 'x', value: randomTensor([2, 3, 2], 1) },
    ]);
    expectNoLeak(() => {
      const r = run(graph, params, feeds);
      Object.values(r.outputs).forEach((t) => t.dispose());
    });
  });
});
