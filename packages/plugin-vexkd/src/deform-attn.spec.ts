import * as tf from '@tensorflow/tfjs';
import { GraphBuilder, ParamStore, Rng, run, type Graph } from '@bevzip/ir';
import { checkGradients } from '@bevzip/ir/testing';
import { deformableAttention, offsetPattern, referencePoints, type ConstantParam, type DeformAttnSpec } from './deform-attn';

const QG = [3, 4] as const;
const MG = [5, 6] as const;
const C = 4;
const CM = 3;

function layer(spec: DeformAttnSpec): { graph: Graph; params: ParamStore } {
  const b = new GraphBuilder('da');
  const q = b.input('query', [-1, QG[0] * QG[1], C]);
  const f = b.input('map', [-1, MG[0], MG[1], CM]);
  const constants: ConstantParam[] = [];
  b.output(deformableAttention(b, 'da', q, f, QG, spec, constants));
  const graph = b.build();
  const params = ParamStore.init(graph, 3);
  // Random weights everywhere (offsets included, so every query samples its own points), constants kept.
  const rng = new Rng(11);
  for (const p of graph.params) {
    const constant = constants.find((x) => x.name === p.name);
    const n = p.shape.reduce((a, d) => a * d, 1);
    const values = Float32Array.from({ length: n }, (_, i) => (constant ? constant.values[i] : 0) + (p.trainable ? 0.6 * (rng.next() * 2 - 1) : 0));
    const t = tf.tensor(values, p.shape);
    params.set(p.name, t, p.trainable);
    t.dispose();
  }
  return { graph, params };
}

/** The layer written out directly in float64 loops over host arrays. */
function direct(spec: DeformAttnSpec, params: ParamStore, query: Float32Array, map: Float32Array, batch: number): Float64Array {
  const get = (n: string) => params.get(`da.${n}`).dataSync();
  const [offW, offB, ref, attW, attB, vW, vB, oW, oB] = ['offset.weight', 'offset.bias', 'reference', 'attn.weight', 'attn.bias', 'value.weight', 'value.bias', 'out.weight', 'out.bias'].map(get);
  const { heads: m, points: k } = spec;
  const n = QG[0] * QG[1];
  const [mh, mw] = MG;
  const ch = C / m;
  const dense = (x: ArrayLike<number>, xo: number, inD: number, w: ArrayLike<number>, bias: ArrayLike<number>, outD: number) =>
    Array.from({ length: outD }, (_, o) => {
      let s = bias[o];
      for (let i = 0; i < inD; i++) s += x[xo + i] * w[i * outD + o];
      return s;
    });
  const out = new Float64Array(batch * n * C);
  for (let bi = 0; bi < batch; bi++) {
    const value = Array.from({ length: mh * mw }, (_, cell) => dense(map, (bi * mh * mw + cell) * CM, CM, vW, vB, C));
    const at = (r: number, c: number, chan: number) => (r < 0 || c < 0 || r >= mh || c >= mw ? 0 : value[r * mw + c][chan]);
    for (let u = 0; u < n; u++) {
      const qo = (bi * n + u) * C;
      const off = dense(query, qo, C, offW, offB, m * k * 2);
      const logit = dense(query, qo, C, attW, attB, m * k);
      const heads = new Array<number>(C).fill(0);
      for (let h = 0; h < m; h++) {
        const mx = Math.max(...logit.slice(h * k, h * k + k));
        const e = logit.slice(h * k, h * k + k).map((l) => Math.exp(l - mx));
        const z = e.reduce((a, x) => a + x, 0);
        for (let p = 0; p < k; p++) {
          const row = ref[u * 2] + off[(h * k + p) * 2];
          const col = ref[u * 2 + 1] + off[(h * k + p) * 2 + 1];
          const r0 = Math.floor(row);
          const c0 = Math.floor(col);
          const fr = row - r0;
          const fc = col - c0;
          for (let j = 0; j < ch; j++) {
            const chan = h * ch + j;
            const v = (1 - fr) * (1 - fc) * at(r0, c0, chan) + (1 - fr) * fc * at(r0, c0 + 1, chan) + fr * (1 - fc) * at(r0 + 1, c0, chan) + fr * fc * at(r0 + 1, c0 + 1, chan);
            heads[chan] += (e[p] / z) * v;
          }
        }
      }
      out.set(dense(heads, 0, C, oW, oB, C), qo);
    }
  }
  return out;
}

const specs: DeformAttnSpec[] = [
  { heads: 2, points: 3, sampling: 'learned', radius: 0.7 },
  { heads: 1, points: 4, sampling: 'window', radius: 1 },
];

describe('deformableAttention', () => {
  it.each(specs)('matches a direct float64 implementation (%o)', (spec) => {
    const { graph, params } = layer(spec);
    const query = tf.randomUniform([2, QG[0] * QG[1], C], -1, 1, 'float32', 5);
    const map = tf.randomUniform([2, MG[0], MG[1], CM], -1, 1, 'float32', 6);
    const before = tf.memory().numTensors;
    const got = run(graph, params, { query, map }).outputs[graph.outputs[0]];
    expect(got.shape).toEqual([2, QG[0] * QG[1], C]);
    const want = direct(spec, params, query.dataSync() as Float32Array, map.dataSync() as Float32Array, 2);
    const g = got.dataSync();
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(g[i] - want[i]));
    expect(worst).toBeLessThan(1e-4);
    got.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([query, map]);
    params.dispose();
  });

  it.each(specs)('has gradients in the query and the map that match finite differences (%o)', (spec) => {
    const { graph, params } = layer(spec);
    const query = tf.randomUniform([1, QG[0] * QG[1], C], -1, 1, 'float32', 8);
    const map = tf.randomUniform([1, MG[0], MG[1], CM], -1, 1, 'float32', 9);
    const probe = tf.randomUniform([1, QG[0] * QG[1], C], -1, 1, 'float32', 10);
    const before = tf.memory().numTensors;
    const worst = checkGradients((q, f) => tf.sum(tf.mul(run(graph, params, { query: q, map: f }).outputs[graph.outputs[0]], probe)) as tf.Scalar, [query, map], { eps: 1e-3, tol: 2e-2, samples: 16 });
    expect(worst).toBeLessThan(2e-2);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([query, map, probe]);
    params.dispose();
  });

  it('places reference points on query-cell centres and the window on a square', () => {
    expect(Array.from(referencePoints([2, 2], [4, 4]))).toEqual([0.5, 0.5, 0.5, 2.5, 2.5, 0.5, 2.5, 2.5]);
    expect(Array.from(offsetPattern({ heads: 1, points: 4, sampling: 'window', radius: 2 }))).toEqual([-1, -1, -1, 1, 1, -1, 1, 1]);
    const ring = offsetPattern({ heads: 4, points: 2, sampling: 'learned', radius: 1 });
    expect(Array.from(ring.slice(0, 4)).map((x) => Math.round(x * 1e6) / 1e6)).toEqual([0, 1, 0, 2]);
    expect(() => offsetPattern({ heads: 1, points: 3, sampling: 'window', radius: 1 })).toThrow(/square number of points, got 3/);
  });
});
