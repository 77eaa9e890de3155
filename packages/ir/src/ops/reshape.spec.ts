import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../builder';
import { BevzipError, ERROR_CODES } from '../errors';
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
import { reshapeShape } from './reshape';

describe('reshape', () => {
  it.each([
    [
      [-1, 4, 4, 3],
      [0, -1],
      [-1, 48],
    ],
    [[2, 3, 4], [-1], [24]],
    [
      [2, 3, 4],
      [0, 0, -1],
      [2, 3, 4],
    ],
    [
      [2, 12],
      [4, -1, 3],
      [4, 2, 3],
    ],
    [
      [-1, 6],
      [-1, 2, 3],
      [-1, 2, 3],
    ],
    [
      [-1, 6],
      [2, -1],
      [2, -1],
    ],
    [
      [-1, 6],
      [0, 3, 2],
      [-1, 3, 2],
    ],
  ])('infers [%j] → %j as %j (hand-computed)', (input, spec, expected) => {
    expect(reshapeShape(input, spec)).toEqual(expected);
  });

  it.each([
    [
      [2, 3, 4],
      [0, -1, 2],
      [2, 6, 2],
    ],
    [[2, 3, 4], [-1], [24]],
    [
      [6, 4],
      [3, 0, 2],
      [3, 4, 2],
    ],
  ])('keeps row-major order and matches onnxruntime: [%j] to %j', async (shape, spec, expected) => {
    const x = randomTensor(shape, 1);
    const { graph, params, feeds } = singleOpGraph('reshape', [{ name: 'x', value: x }], { shape: spec });
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expect(y.shape).toEqual(expected);
    expect(graph.values[graph.outputs[0]].shape).toEqual(expected);
    expectClose(y, x.dataSync(), 0);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
    expect(await onnxParity(graph, params, feeds, { opset: 13 })).toBeLessThanOrEqual(1e-4);
  });

  it('flattens per sample whatever the batch size, in the interpreter and in onnxruntime', async () => {
    const g = new GraphBuilder('batch');
    const y = g.op('reshape', [g.input('x', [-1, 4, 4, 3])], { shape: [0, -1] });
    g.output(y);
    const graph = g.build();
    expect(graph.values[y].shape).toEqual([-1, 48]);
    for (const batch of [1, 3]) {
      const feeds = { x: randomTensor([batch, 4, 4, 3], batch) };
      expect(run(graph, new ParamStore(), feeds).outputs[y].shape).toEqual([batch, 48]);
      expect(await onnxParity(graph, new ParamStore(), feeds)).toBeLessThanOrEqual(1e-4);
    }
  });

  it('has a gradient that agrees with finite differences', () => {
    const x = randomTensor([2, 3, 2], 2);
    const weights = randomTensor([2, 6], 3);
    const { graph, params } = singleOpGraph('reshape', [{ name: 'x', value: x }], { shape: [0, -1] });
    checkGradients(
      (xi) => run(graph, params, { x: xi }).outputs[graph.outputs[0]].mul(weights).sum() as tf.Scalar,
      [x],
    );
  });

  it('rejects impossible shapes, naming the node', () => {
    const x = { name: 'x', value: tf.zeros([2, 3]) };
    expect(() => singleOpGraph('reshape', [x], { shape: [4, -1] })).toThrow(
      /node 'reshape'.*6 elements do not divide by 4/,
    );
    expect(() => singleOpGraph('reshape', [x], { shape: [7] })).toThrow(
      /node 'reshape'.*cannot reshape \[2,3\] \(6 elements\) to \[7\]/,
    );
    expect(() => singleOpGraph('reshape', [x], { shape: [-1, -1] })).toThrow(
      /node 'reshape'.*attrs\.shape: shape may hold at most one -1/,
    );
    expect(() => singleOpGraph('reshape', [x], { shape: [6, 1, 0] })).toThrow(
      /node 'reshape'.*copies dimension 2 \(0\) but the input \[2,3\] has rank 2/,
    );
  });

  it('reports bad input as coded errors: shapes as SHAPE_MISMATCH, attributes as BAD_ATTRS', () => {
    const x = { name: 'x', value: tf.zeros([2, 3]) };
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e instanceof BevzipError ? e.code : `not a BevzipError: ${String(e)}`;
      }
      return 'no error';
    };
    expect(codeOf(() => singleOpGraph('reshape', [x], { shape: [7] }))).toBe(ERROR_CODES.SHAPE_MISMATCH);
    expect(codeOf(() => singleOpGraph('reshape', [x], { shape: [-1, -1] }))).toBe(ERROR_CODES.BAD_ATTRS);
    expect(codeOf(() => singleOpGraph('reshape', [x], { shape: [6], extra: 1 }))).toBe(ERROR_CODES.BAD_ATTRS);
  });

  it('keeps the tensor count flat across runs', () => {
    const { graph, params, feeds } = singleOpGraph(
      'reshape',
      [{ name: 'x', value: randomTensor([2, 3], 1) }],
      { shape: [-1] },
    );
    expectNoLeak(() => {
      const r = run(graph, params, feeds);
      Object.values(r.outputs).forEach((t) => t.dispose());
    });
  });
});
