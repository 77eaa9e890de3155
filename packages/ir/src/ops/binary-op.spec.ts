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

/** Float64 numpy-style broadcast of `fn` over two tensors, the reference. */
function broadcastRef(
  a: tf.Tensor,
  b: tf.Tensor,
  fn: (x: number, y: number) => number,
): { data: number[]; shape: number[] } {
  const rank = Math.max(a.rank, b.rank);
  const pad = (s: number[]) => [...new Array(rank - s.length).fill(1), ...s];
  const [sa, sb] = [pad(a.shape), pad(b.shape)];
  const shape = sa.map((d, i) => Math.max(d, sb[i]));
  const strides = (s: number[]) => s.map((d, i) => (d === 1 ? 0 : s.slice(i + 1).reduce((p, q) => p * q, 1)));
  const [ta, tb] = [strides(sa), strides(sb)];
  const [da, db] = [a.dataSync(), b.dataSync()];
  const n = shape.reduce((p, q) => p * q, 1);
  const data: number[] = [];
  for (let flat = 0; flat < n; flat++) {
    let [ia, ib, rest] = [0, 0, flat];
    for (let k = rank - 1; k >= 0; k--) {
      const idx = rest % shape[k];
      rest = Math.floor(rest / shape[k]);
      ia += idx * ta[k];
      ib += idx * tb[k];
    }
    data.push(fn(da[ia], db[ib]));
  }
  return { data, shape };
}

const ops = [
  { op: 'add', fn: (x: number, y: number) => x + y },
  { op: 'sub', fn: (x: number, y: number) => x - y },
  { op: 'mul', fn: (x: number, y: number) => x * y },
  { op: 'div', fn: (x: number, y: number) => x / y },
];
const shapes: [number[], number[]][] = [
  [
    [2, 3, 4],
    [2, 3, 4],
  ],
  [[2, 3, 4], [4]],
  [
    [2, 1, 4],
    [3, 1],
  ],
  [[1], [2, 3]],
];
/** Values in ±[0.5, 1.5): never near zero, so division and its gradient stay tame. */
const awayFromZero = (shape: number[], seed: number) =>
  tf.tidy(() => {
    const r = randomTensor(shape, seed);
    return tf.add(tf.mul(tf.sign(r), 0.5), r);
  });

describe.each(ops)('$op', ({ op, fn }) => {
  it.each(shapes)(
    'broadcasts [%j] with [%j] like a direct computation and like onnxruntime',
    async (sa, sb) => {
      const a = randomTensor(sa, 1);
      const b = awayFromZero(sb, 2);
      const { graph, params, feeds } = singleOpGraph(op, [
        { name: 'a', value: a },
        { name: 'b', value: b, param: true },
      ]);
      const y = run(graph, params, feeds).outputs[graph.outputs[0]];
      const ref = broadcastRef(a, b, fn);
      expect(y.shape).toEqual(ref.shape);
      expect(graph.values[graph.outputs[0]].shape).toEqual(ref.shape);
      expectClose(y, ref.data, 1e-6);
      expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
    },
  );

  it('keeps an unknown batch dimension through inference, the interpreter and onnxruntime', async () => {
    const g = new GraphBuilder('batch');
    const y = g.op(op, [g.input('a', [-1, 3]), g.param('b', [3])]);
    g.output(y);
    const graph = g.build();
    expect(graph.values[y].shape).toEqual([-1, 3]);
    const params = ParamStore.fromTensors(graph, new Map([['b', awayFromZero([3], 3)]]));
    const feeds = { a: randomTensor([5, 3], 4) };
    expect(run(graph, params, feeds).outputs[y].shape).toEqual([5, 3]);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
  });

  it('has gradients for both broadcast operands that agree with finite differences', () => {
    const a = randomTensor([2, 3, 4], 5);
    const b = awayFromZero([3, 1], 6);
    const { graph, params } = singleOpGraph(op, [
      { name: 'a', value: a },
      { name: 'b', value: b },
    ]);
    checkGradients(
      (ai, bi) => run(graph, params, { a: ai, b: bi }).outputs[graph.outputs[0]].square().sum() as tf.Scalar,
      [a, b],
    );
  });

  it('rejects shapes that do not broadcast, naming the node and both shapes', () => {
    expect(() =>
      singleOpGraph(op, [
        { name: 'a', value: tf.zeros([2, 3]) },
        { name: 'b', value: tf.zeros([4]) },
      ]),
    ).toThrow(new RegExp(`node '${op}'.*cannot broadcast \\[2,3\\] with \\[4\\]`));
  });

  it('keeps the tensor count flat across runs', () => {
    const { graph, params, feeds } = singleOpGraph(op, [
      { name: 'a', value: randomTensor([2, 3], 1) },
      { name: 'b', value: awayFromZero([3], 2), param: true },
    ]);
    expectNoLeak(() => {
      const r = run(graph, params, feeds);
      Object.values(r.outputs).forEach((t) => t.dispose());
    });
  });
});

describe('div', () => {
  it('refuses int32 inputs, whose rounding differs between tfjs and ONNX', () => {
    expect(() =>
      singleOpGraph('div', [
        { name: 'a', value: tf.ones([2], 'int32') },
        { name: 'b', value: tf.ones([2], 'int32') },
      ]),
    ).toThrow(/node 'div'.*float32/);
  });
});
