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

/** Batched a·b with optional transposes and broadcast batch axes, in float64. */
function matmulRef(
  a: tf.Tensor,
  b: tf.Tensor,
  ta: boolean,
  tb: boolean,
): { data: number[]; shape: number[] } {
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [m, k] = ta ? [ac, ar] : [ar, ac];
  const n = tb ? br : bc;
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const pad = (s: number[]) => [...new Array(rank - s.length).fill(1), ...s];
  const [pa, pb] = [pad(batchA), pad(batchB)];
  const batch = pa.map((d, i) => Math.max(d, pb[i]));
  const [ad, bd] = [a.dataSync(), b.dataSync()];
  const offset = (s: number[], idx: number[]) => idx.reduce((o, v, i) => o * s[i] + (s[i] === 1 ? 0 : v), 0);
  const data: number[] = [];
  const count = batch.reduce((p, q) => p * q, 1);
  for (let flat = 0; flat < count; flat++) {
    const idx = batch.map(
      (_, i) => Math.floor(flat / batch.slice(i + 1).reduce((p, q) => p * q, 1)) % batch[i],
    );
    const [oa, ob] = [offset(pa, idx) * ar * ac, offset(pb, idx) * br * bc];
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++)
          s += ad[oa + (ta ? p * ac + i : i * ac + p)] * bd[ob + (tb ? j * bc + p : p * bc + j)];
        data.push(s);
      }
  }
  return { data, shape: [...batch, m, n] };
}

const cases = [
  { name: '2-D', a: [3, 4], b: [4, 5], ta: false, tb: false },
  { name: 'transposeA', a: [4, 3], b: [4, 5], ta: true, tb: false },
  { name: 'batched transposeB', a: [2, 3, 4], b: [2, 5, 4], ta: false, tb: true },
  { name: 'rank 3 by rank 2', a: [2, 3, 4], b: [4, 5], ta: false, tb: false },
  { name: 'both transposed, broadcast batch', a: [2, 1, 4, 3], b: [3, 5, 4], ta: true, tb: true },
];

describe('matmul', () => {
  it.each(cases)('matches a direct computation and onnxruntime: $name', async ({ a: sa, b: sb, ta, tb }) => {
    const [a, b] = [randomTensor(sa, 1), randomTensor(sb, 2)];
    const attrs = { transposeA: ta, transposeB: tb };
    for (const bParam of [false, true]) {
      const { graph, params, feeds } = singleOpGraph(
        'matmul',
        [
          { name: 'a', value: a },
          { name: 'b', value: b, param: bParam },
        ],
        attrs,
      );
      const y = run(graph, params, feeds).outputs[graph.outputs[0]];
      const ref = matmulRef(a, b, ta, tb);
      expect(y.shape).toEqual(ref.shape);
      expect(graph.values[graph.outputs[0]].shape).toEqual(ref.shape);
      expectClose(y, ref.data, 1e-5);
      expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
    }
  });

  it('keeps an unknown batch dimension', async () => {
    const g = new GraphBuilder('batch');
    const y = g.op('matmul', [g.input('a', [-1, 3, 4]), g.input('b', [-1, 3, 4])], { transposeA: true });
    g.output(y);
    const graph = g.build();
    expect(graph.values[y].shape).toEqual([-1, 4, 4]);
    const feeds = { a: randomTensor([2, 3, 4], 1), b: randomTensor([2, 3, 4], 2) };
    expect(run(graph, new ParamStore(), feeds).outputs[y].shape).toEqual([2, 4, 4]);
    expect(await onnxParity(graph, new ParamStore(), feeds)).toBeLessThanOrEqual(1e-4);
  });

  it.each(cases.slice(1))(
    'has gradients that agree with finite differences: $name',
    ({ a: sa, b: sb, ta, tb }) => {
      const [a, b] = [randomTensor(sa, 3), randomTensor(sb, 4)];
      const { graph, params } = singleOpGraph(
        'matmul',
        [
          { name: 'a', value: a },
          { name: 'b', value: b },
        ],
        { transposeA: ta, transposeB: tb },
      );
      checkGradients(
        (ai, bi) =>
          run(graph, params, { a: ai, b: bi }).outputs[graph.outputs[0]].square().sum() as tf.Scalar,
        [a, b],
      );
    },
  );

  it('rejects inner dimensions that do not agree, naming the node', () => {
    expect(() =>
      singleOpGraph('matmul', [
        { name: 'a', value: tf.zeros([3, 4]) },
        { name: 'b', value: tf.zeros([5, 4]) },
      ]),
    ).toThrow(/node 'matmul'.*inner dimensions of \[3,4\] and \[5,4\]/);
    expect(() =>
      singleOpGraph('matmul', [
        { name: 'a', value: tf.zeros([4]) },
        { name: 'b', value: tf.zeros([4, 4]) },
      ]),
    ).toThrow(/node 'matmul'.*rank ≥ 2/);
  });

  it('keeps the tensor count flat across runs', () => {
    const { graph, params, feeds } = singleOpGraph('matmul', [
      { name: 'a', value: randomTensor([2, 3], 1) },
      { name: 'b', value: randomTensor([3, 2], 2) },
    ]);
    expectNoLeak(() => {
      const r = run(graph, params, feeds);
      Object.values(r.outputs).forEach((t) => t.dispose());
    });
  });
});
