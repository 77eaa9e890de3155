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

/** Sum or mean over `axes` of a row-major tensor in float64, reduced axes dropped. */
function reduceRef(x: tf.Tensor, axes: number[], mean: boolean): number[] {
  const shape = x.shape;
  const kept = shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const outShape = kept.map((i) => shape[i]);
  const out = new Array<number>(outShape.reduce((a, b) => a * b, 1)).fill(0);
  const data = x.dataSync();
  const count = axes.reduce((a, i) => a * shape[i], 1);
  for (let flat = 0; flat < data.length; flat++) {
    const idx = shape.map(
      (_, i) => Math.floor(flat / shape.slice(i + 1).reduce((a, b) => a * b, 1)) % shape[i],
    );
    const o = kept.reduce((acc, i) => acc * shape[i] + idx[i], 0);
    out[o] += data[flat] / (mean ? count : 1);
  }
  return out;
}

const cases = [
  { axes: [1, 2], keepDims: true, resolved: [1, 2], shape: [2, 1, 1, 5] },
  { axes: [-1], keepDims: false, resolved: [3], shape: [2, 3, 4] },
  { axes: [0, 3], keepDims: false, resolved: [0, 3], shape: [3, 4] },
  { axes: undefined, keepDims: false, resolved: [0, 1, 2, 3], shape: [] },
];

describe.each([
  { op: 'reduce_sum', mean: false },
  { op: 'reduce_mean', mean: true },
])('$op', ({ op, mean }) => {
  it.each(cases)(
    'matches a direct computation and onnxruntime (opsets 17 and 13): axes $axes keepDims $keepDims',
    async ({ axes, keepDims, resolved, shape }) => {
      const x = randomTensor([2, 3, 4, 5], 1);
      const attrs: Attrs = axes ? { axes, keepDims } : { keepDims };
      const { graph, params, feeds } = singleOpGraph(op, [{ name: 'x', value: x }], attrs);
      const y = run(graph, params, feeds).outputs[graph.outputs[0]];
      expect(y.shape).toEqual(shape);
      expect(graph.values[graph.outputs[0]].shape).toEqual(shape);
      expectClose(y, reduceRef(x, resolved, mean), 1e-5);
      expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
      expect(await onnxParity(graph, params, feeds, { opset: 13 })).toBeLessThanOrEqual(1e-4);
      expect(await onnxParity(graph, params, feeds, { opset: 18 })).toBeLessThanOrEqual(1e-4);
    },
  );

  it('keeps an unknown batch dimension when reducing the others', async () => {
    const g = new GraphBuilder('batch');
    const y = g.op(op, [g.input('x', [-1, 4, 4, 3])], { axes: [1, 2], keepDims: true });
    g.output(y);
    const graph = g.build();
    expect(graph.values[y].shape).toEqual([-1, 1, 1, 3]);
    expect(
      await onnxParity(graph, new ParamStore(), { x: randomTensor([2, 4, 4, 3], 2) }),
    ).toBeLessThanOrEqual(1e-4);
  });

  it('has a gradient that agrees with finite differences', () => {
    const x = randomTensor([2, 3, 4], 3);
    const { graph, params } = singleOpGraph(op, [{ name: 'x', value: x }], { axes: [0, 2] });
    checkGradients(
      (xi) => run(graph, params, { x: xi }).outputs[graph.outputs[0]].square().sum() as tf.Scalar,
      [x],
    );
  });

  it('rejects repeated or out-of-range axes, naming the node', () => {
    const x = { name: 'x', value: tf.zeros([2, 3]) };
    expect(() => singleOpGraph(op, [x], { axes: [1, -1] })).toThrow(
      new RegExp(`node '${op}'.*name the same axis twice`),
    );
    expect(() => singleOpGraph(op, [x], { axes: [2] })).toThrow(
      new RegExp(`node '${op}'.*axes 2 is out of range for rank 2`),
    );
    expect(() => singleOpGraph(op, [x], { axes: [] })).toThrow(new RegExp(`node '${op}'.*attrs\\.axes`));
  });

  it('keeps the tensor count flat across runs', () => {
    const { graph, params, feeds } = singleOpGraph(op, [{ name: 'x', value: randomTensor([2, 3], 1) }], {
      axes: [1],
    });
    expectNoLeak(() => {
      const r = run(graph, params, feeds);
      Object.values(r.outputs).forEach((t) => t.dispose());
    });
  });
});
