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

/** The elements of a row-major tensor inside the box begin…begin+size, by index arithmetic. */
function sliceRef(x: tf.Tensor, begin: number[], size: number[]): number[] {
  const shape = x.shape;
  return Array.from(x.dataSync()).filter((_, flat) =>
    shape.every((d, k) => {
      if (k >= begin.length) return true;
      const i = Math.floor(flat / shape.slice(k + 1).reduce((a, b) => a * b, 1)) % d;
      return i >= begin[k] && (size[k] === -1 || i < begin[k] + size[k]);
    }),
  );
}

const cases = [
  { name: 'every axis', begin: [1, 0, 2], size: [1, 2, 3], shape: [1, 2, 3] },
  { name: 'to the end with -1', begin: [0, 1, 1], size: [-1, -1, 2], shape: [2, 2, 2] },
  { name: 'leading axes only', begin: [1], size: [1], shape: [1, 3, 5] },
];

describe('slice', () => {
  it.each(cases)(
    'matches a direct selection and onnxruntime (opsets 17 and 9): $name',
    async ({ begin, size, shape }) => {
      const x = randomTensor([2, 3, 5], 1);
      const { graph, params, feeds } = singleOpGraph('slice', [{ name: 'x', value: x }], { begin, size });
      const y = run(graph, params, feeds).outputs[graph.outputs[0]];
      expect(y.shape).toEqual(shape);
      expect(graph.values[graph.outputs[0]].shape).toEqual(shape);
      expectClose(y, sliceRef(x, begin, size), 0);
      expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
      expect(await onnxParity(graph, params, feeds, { opset: 9 })).toBeLessThanOrEqual(1e-4);
    },
  );

  it('slices past an unknown batch dimension, keeping it unknown', async () => {
    const g = new GraphBuilder('batch');
    const y = g.op('slice', [g.input('x', [-1, 4, 3])], { begin: [0, 1], size: [-1, 2] });
    g.output(y);
    const graph = g.build();
    expect(graph.values[y].shape).toEqual([-1, 2, 3]);
    const feeds = { x: randomTensor([3, 4, 3], 2) };
    expect(run(graph, new ParamStore(), feeds).outputs[y].shape).toEqual([3, 2, 3]);
    expect(await onnxParity(graph, new ParamStore(), feeds)).toBeLessThanOrEqual(1e-4);
  });

  it('has a gradient that agrees with finite differences (zero outside the box)', () => {
    const x = randomTensor([3, 4], 2);
    const { graph, params } = singleOpGraph('slice', [{ name: 'x', value: x }], {
      begin: [1, 1],
      size: [-1, 2],
    });
    const grad = tf.grad((xi: tf.Tensor) => run(graph, params, { x: xi }).outputs[graph.outputs[0]].sum())(x);
    expectClose(grad, [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0], 0);
    checkGradients(
      (xi) => run(graph, params, { x: xi }).outputs[graph.outputs[0]].square().sum() as tf.Scalar,
      [x],
    );
  });

  it('rejects boxes that leave the tensor and malformed attributes, naming the node', () => {
    const x = { name: 'x', value: tf.zeros([2, 3]) };
    expect(() => singleOpGraph('slice', [x], { begin: [0, 2], size: [1, 2] })).toThrow(
      /node 'slice'.*axis 1: begin 2 size 2 does not fit in dimension 3/,
    );
    expect(() => singleOpGraph('slice', [x], { begin: [0, 0], size: [1] })).toThrow(
      /node 'slice'.*begin and size must have one entry per axis/,
    );
    expect(() => singleOpGraph('slice', [x], { begin: [0], size: [0] })).toThrow(
      /node 'slice'.*size entries must be positive or -1/,
    );
    expect(() => singleOpGraph('slice', [x], { begin: [0, 0, 0], size: [1, 1, 1] })).toThrow(
      /node 'slice'.*more than the rank/,
    );
  });

  it('keeps the tensor count flat across runs', () => {
    const { graph, params, feeds } = singleOpGraph('slice', [{ name: 'x', value: randomTensor([2, 3], 1) }], {
      begin: [0, 1],
      size: [2, -1],
    });
    expectNoLeak(() => {
      const r = run(graph, params, feeds);
      Object.values(r.outputs).forEach((t) => t.dispose());
    });
  });
});
