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

const ops: { op: string; attrs: Attrs; fn: (v: number) => number }[] = [
  { op: 'relu', attrs: {}, fn: (v: number) => Math.max(v, 0) },
  { op: 'sigmoid', attrs: {}, fn: (v: number) => 1 / (1 + Math.exp(-v)) },
  { op: 'tanh', attrs: {}, fn: (v: number) => Math.tanh(v) },
  { op: 'scale', attrs: { factor: -2.5 }, fn: (v: number) => -2.5 * v },
];

/** Values in ±[0.5, 3.5): clear of relu's kink at 0, so finite differences are exact there. */
const input = (shape: number[], seed: number) =>
  tf.tidy(() => {
    const r = randomTensor(shape, seed, 3);
    return tf.add(tf.mul(tf.sign(r), 0.5), r);
  });

describe.each(ops)('$op', ({ op, attrs, fn }) => {
  it('matches a direct float64 computation and onnxruntime', async () => {
    const x = input([2, 3, 5], 1);
    const { graph, params, feeds } = singleOpGraph(op, [{ name: 'x', value: x }], attrs);
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expect(y.shape).toEqual([2, 3, 5]);
    expectClose(y, Array.from(x.dataSync(), fn), 1e-6);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
  });

  it('keeps an unknown batch dimension', async () => {
    const g = new GraphBuilder('batch');
    const y = g.op(op, [g.input('x', [-1, 4])], attrs);
    g.output(y);
    const graph = g.build();
    expect(graph.values[y].shape).toEqual([-1, 4]);
    const feeds = { x: input([3, 4], 2) };
    expect(run(graph, new ParamStore(), feeds).outputs[y].shape).toEqual([3, 4]);
    expect(await onnxParity(graph, new ParamStore(), feeds)).toBeLessThanOrEqual(1e-4);
  });

  it('has a gradient that agrees with finite differences', () => {
    const x = input([2, 6], 3);
    const { graph, params } = singleOpGraph(op, [{ name: 'x', value: x }], attrs);
    const weights = randomTensor([2, 6], 4);
    checkGradients(
      (xi) => run(graph, params, { x: xi }).outputs[graph.outputs[0]].mul(weights).sum() as tf.Scalar,
      [x],
    );
  });

  it('rejects an int32 input, naming the node', () => {
    expect(() => singleOpGraph(op, [{ name: 'x', value: tf.zeros([2], 'int32') }], attrs)).toThrow(
      new RegExp(`node '${op}'.*float32`),
    );
  });

  it('keeps the tensor count flat across runs', () => {
    const { graph, params, feeds } = singleOpGraph(op, [{ name: 'x', value: input([4], 1) }], attrs);
    expectNoLeak(() => {
      const r = run(graph, params, feeds);
      Object.values(r.outputs).forEach((t) => t.dispose());
    });
  });
});

describe('scale', () => {
  it('requires a numeric factor, naming the attribute', () => {
    expect(() => singleOpGraph('scale', [{ name: 'x', value: tf.zeros([2]) }], {})).toThrow(
      /node 'scale'.*attrs\.factor/,
    );
  });

  it('rejects unknown attributes rather than ignoring a typo', () => {
    expect(() =>
      singleOpGraph('scale', [{ name: 'x', value: tf.zeros([2]) }], { factor: 2, facotr: 3 }),
    ).toThrow(/node 'scale'.*facotr/);
  });
});
