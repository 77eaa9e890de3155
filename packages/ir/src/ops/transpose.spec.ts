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

/** Output element at index o reads input index i with i[perm[k]] = o[k], the reference. */
function transposeRef(x: tf.Tensor, perm: number[]): number[] {
  const shape = x.shape;
  const outShape = perm.map((p) => shape[p]);
  const stride = (s: number[], k: number) => s.slice(k + 1).reduce((a, b) => a * b, 1);
  const data = x.dataSync();
  return Array.from({ length: data.length }, (_, flat) => {
    let src = 0;
    outShape.forEach(
      (d, k) => (src += (Math.floor(flat / stride(outShape, k)) % d) * stride(shape, perm[k])),
    );
    return data[src];
  });
}

describe('transpose', () => {
  it.each([[[0, 3, 1, 2]], [[0, 2, 3, 1]], [[3, 2, 1, 0]], [[0, 1, 2, 3]]])(
    'matches a direct permutation and onnxruntime: perm %j',
    async (perm) => {
      const x = randomTensor([2, 3, 4, 5], 1);
      const { graph, params, feeds } = singleOpGraph('transpose', [{ name: 'x', value: x }], { perm });
      const y = run(graph, params, feeds).outputs[graph.outputs[0]];
      expect(y.shape).toEqual(perm.map((p) => x.shape[p]));
      expect(graph.values[graph.outputs[0]].shape).toEqual(y.shape);
      expectClose(y, transposeRef(x, perm), 0);
      expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
    },
  );

  it('moves an unknown batch dimension with its axis', async () => {
    const g = new GraphBuilder('batch');
    const y = g.op('transpose', [g.input('x', [-1, 3, 5])], { perm: [2, 0, 1] });
    g.output(y);
    const graph = g.build();
    expect(graph.values[y].shape).toEqual([5, -1, 3]);
    expect(await onnxParity(graph, new ParamStore(), { x: randomTensor([2, 3, 5], 2) })).toBeLessThanOrEqual(
      1e-4,
    );
  });

  it('has a gradient that agrees with finite differences', () => {
    const x = randomTensor([2, 3, 4], 2);
    const weights = randomTensor([4, 2, 3], 3);
    const { graph, params } = singleOpGraph('transpose', [{ name: 'x', value: x }], { perm: [2, 0, 1] });
    checkGradients(
      (xi) => run(graph, params, { x: xi }).outputs[graph.outputs[0]].mul(weights).sum() as tf.Scalar,
      [x],
    );
  });

  it('rejects a perm that is not a permutation of the axes, naming the node', () => {
    const x = { name: 'x', value: tf.zeros([2, 3, 4]) };
    expect(() => singleOpGraph('transpose', [x], { perm: [0, 1] })).toThrow(
      /node 'transpose'.*perm \[0,1\] is not a permutation of the 3 axes/,
    );
    expect(() => singleOpGraph('transpose', [x], { perm: [0, 1, 1] })).toThrow(
      /node 'transpose'.*not a permutation/,
    );
  });

  it('keeps the tensor count flat across runs', () => {
    const { graph, params, feeds } = singleOpGraph(
      'transpose',
      [{ name: 'x', value: randomTensor([2, 3], 1) }],
      { perm: [1, 0] },
    );
    expectNoLeak(() => {
      const r = run(graph, params, feeds);
      Object.values(r.outputs).forEach((t) => t.dispose());
    });
  });
});
