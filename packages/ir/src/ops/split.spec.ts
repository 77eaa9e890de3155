import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../builder';
import type { Attrs } from '../graph';
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

/** Piece `k` of a row-major tensor cut along `axis` into `sizes`, by index arithmetic. */
function pieceRef(x: tf.Tensor, axis: number, sizes: number[], k: number): number[] {
  const start = sizes.slice(0, k).reduce((a, b) => a + b, 0);
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const dim = x.shape[axis];
  return Array.from(x.dataSync()).filter((_, flat) => {
    const i = Math.floor(flat / inner) % dim;
    return i >= start && i < start + sizes[k];
  });
}

const cases = [
  { name: 'last axis (default)', shape: [2, 3, 6], axis: undefined, resolved: 2, sizes: [1, 2, 3] },
  { name: 'axis 0', shape: [5, 2], axis: 0, resolved: 0, sizes: [2, 3] },
  { name: 'one piece', shape: [2, 4], axis: 1, resolved: 1, sizes: [4] },
];

describe('split', () => {
  it.each(cases)(
    'matches a direct cut and onnxruntime (opsets 17 and 11): $name',
    async ({ shape, axis, resolved, sizes }) => {
      const x = randomTensor(shape, 1);
      const attrs: Attrs = axis === undefined ? { sizes } : { axis, sizes };
      const { graph, params, feeds } = singleOpGraph('split', [{ name: 'x', value: x }], attrs, sizes.length);
      const ys = graph.outputs.map((o) => run(graph, params, feeds).outputs[o]);
      ys.forEach((y, k) => {
        const expected = shape.map((d, i) => (i === resolved ? sizes[k] : d));
        expect(y.shape).toEqual(expected);
        expect(graph.values[graph.outputs[k]].shape).toEqual(expected);
        expectClose(y, pieceRef(x, resolved, sizes, k), 0);
      });
      expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
      expect(await onnxParity(graph, params, feeds, { opset: 11 })).toBeLessThanOrEqual(1e-4);
    },
  );

  it('keeps an unknown batch dimension', async () => {
    const g = new GraphBuilder('batch');
    const outs = g.opMulti('split', [g.input('x', [-1, 4, 5])], { sizes: [2, 3] }, { outputs: 2 });
    g.output(...outs);
    const graph = g.build();
    expect(outs.map((o) => graph.values[o].shape)).toEqual([
      [-1, 4, 2],
      [-1, 4, 3],
    ]);
    expect(await onnxParity(graph, new ParamStore(), { x: randomTensor([3, 4, 5], 2) })).toBeLessThanOrEqual(
      1e-4,
    );
  });

  it('has a gradient that agrees with finite differences, every piece contributing', () => {
    const x = randomTensor([2, 5], 3);
    const { graph, params } = singleOpGraph(
      'split',
      [{ name: 'x', value: x }],
      { axis: 1, sizes: [2, 3] },
      2,
    );
    checkGradients(
      (xi) => {
        const { outputs } = run(graph, params, { x: xi });
        return tf.add(
          outputs[graph.outputs[0]].square().sum(),
          outputs[graph.outputs[1]].mul(3).sum(),
        ) as tf.Scalar;
      },
      [x],
    );
  });

  it('rejects sizes that do not add up to the axis, and a wrong output count, naming the node', () => {
    expect(() =>
      singleOpGraph('split', [{ name: 'x', value: tf.zeros([2, 6]) }], { sizes: [2, 3] }, 2),
    ).toThrow(/node 'split'.*sizes \[2,3\] sum to 5 but axis 1 of \[2,6\] has 6/);
    expect(() =>
      singleOpGraph('split', [{ name: 'x', value: tf.zeros([2, 6]) }], { sizes: [3, 3] }, 3),
    ).toThrow(/node 'split'.*produces 2 outputs, node names 3/);
  });

  it('keeps the tensor count flat across runs', () => {
    const { graph, params, feeds } = singleOpGraph(
      'split',
      [{ name: 'x', value: randomTensor([2, 4], 1) }],
      { sizes: [1, 3] },
      2,
    );
    expectNoLeak(() => {
      const r = run(graph, params, feeds);
      Object.values(r.outputs).forEach((t) => t.dispose());
    });
  });
});
