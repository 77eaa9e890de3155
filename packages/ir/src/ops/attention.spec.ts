import * as tf from '@tensorflow/tfjs';
import { run } from '../interpreter';
import { checkGradients, expectClose, expectNoLeak, onnxParity, randomTensor, singleOpGraph, type OpCaseInput } from '../testing';

type Mat = number[][];
const matmul = (a: Mat, b: Mat): Mat => a.map((r) => b[0].map((_, j) => r.reduce((s, v, k) => s + v * b[k][j], 0)));
const rows = (t: tf.Tensor, cols: number): Mat => {
  const d = Array.from(t.dataSync());
  return Array.from({ length: d.length / cols }, (_, i) => d.slice(i * cols, (i + 1) * cols));
};

/** Float64 multi-head attention, head by head, the reference. */
function naiveAttention(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, ws: tf.Tensor[], bs: (tf.Tensor | null)[], heads: number): number[] {
  const [batch, lq, d] = q.shape;
  const lk = k.shape[1]!;
  const dh = d / heads;
  const [wq, wk, wv, wo] = ws.map((w) => rows(w, d));
  const addBias = (m: Mat, b: tf.Tensor | null) => (b ? m.map((r) => r.map((x, j) => x + b.dataSync()[j])) : m);
  const out: number[] = [];
  for (let n = 0; n < batch; n++) {
    const slice = (t: tf.Tensor, len: number) => rows(t, d).slice(n * len, (n + 1) * len);
    const Q = addBias(matmul(slice(q, lq), wq), bs[0]);
    const K = addBias(matmul(slice(k, lk), wk), bs[1]);
    const V = addBias(matmul(slice(v, lk), wv), bs[2]);
    const merged: Mat = Q.map(() => new Array<number>(d).fill(0));
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < lq; i++) {
        const s = K.map((kr) => kr.slice(h * dh, (h + 1) * dh).reduce((acc, x, j) => acc + x * Q[i][h * dh + j], 0) / Math.sqrt(dh));
        const m = Math.max(...s);
        const e = s.map((x) => Math.exp(x - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j < dh; j++) merged[i][h * dh + j] = e.reduce((acc, p, t) => acc + (p / z) * V[t][h * dh + j], 0);
      }
    out.push(...addBias(matmul(merged, wo), bs[3]).flat());
  }
  return out;
}

function attentionCase(withBias: boolean, seed: number, heads = 2, d = 4) {
  const q = randomTensor([2, 3, d], seed);
  const k = randomTensor([2, 5, d], seed + 1);
  const v = randomTensor([2, 5, d], seed + 2);
  const ws = ['wq', 'wk', 'wv', 'wo'].map((_, i) => randomTensor([d, d], seed + 3 + i));
  const bs = ['bq', 'bk', 'bv', 'bo'].map((_, i) => (withBias && i !== 1 ? randomTensor([d], seed + 7 + i) : null));
  const inputs: (OpCaseInput | null)[] = [
    { name: 'q', value: q },
    { name: 'k', value: k },
    { name: 'v', value: v },
    ...ws.map((value, i) => ({ name: ['wq', 'wk', 'wv', 'wo'][i], value, param: true })),
    ...bs.map((value, i) => (value ? { name: ['bq', 'bk', 'bv', 'bo'][i], value, param: true } : null)),
  ];
  return { q, k, v, ws, bs, ...singleOpGraph('attention', inputs, { heads }) };
}

describe('attention', () => {
  it.each([
    { name: 'with biases (key bias omitted)', withBias: true },
    { name: 'without biases', withBias: false },
  ])('matches a direct multi-head attention and onnxruntime: $name', async ({ withBias }) => {
    const { q, k, v, ws, bs, graph, params, feeds } = attentionCase(withBias, 1);
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expect(y.shape).toEqual([2, 3, 4]);
    expectClose(y, naiveAttention(q, k, v, ws, bs, 2), 1e-5);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
  });

  it('has gradients in inputs and projections that agree with finite differences', () => {
    const { q, k, v, ws, graph, params, feeds } = attentionCase(true, 11);
    checkGradients(
      (qi, ki, vi, wq, wo) => {
        const store = { get: (n: string) => (n === 'wq' ? wq : n === 'wo' ? wo : params.get(n)) };
        return run(graph, store, { ...feeds, q: qi, k: ki, v: vi }).outputs[graph.outputs[0]].square().sum() as tf.Scalar;
      },
      [q, k, v, ws[0], ws[3]],
    );
  });

  it('rejects a width not divisible by the heads, naming the node', () => {
    expect(() => attentionCase(false, 1, 3)).toThrow(/node 'attention'.*width 4 is not divisible by heads 3/);
  });

  it('keeps the tensor count flat across runs', () => {
    const { graph, params, feeds } = attentionCase(true, 21);
    expectNoLeak(() => run(graph, params, feeds).outputs[graph.outputs[0]].dispose());
  });
});
