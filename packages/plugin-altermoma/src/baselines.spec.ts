import { ParamStore } from '@bevzip/ir';
import { runPlugin } from '@bevzip/plugin-tester';
import { alterMoma, magnitudePrune, snipPrune, synflowPrune } from './plugin';
import { channelGraph, twoBranchGraph, TWO_BRANCH } from './testing-fixtures/two-branch';

const SEED = 7;
const graph = twoBranchGraph();
const host = (store: ParamStore, name: string) => Float64Array.from(store.get(name).dataSync());

describe('baseline criteria', () => {
  const store = ParamStore.init(graph, SEED);
  const [c, l, f] = [TWO_BRANCH.camera, TWO_BRANCH.lidar, TWO_BRANCH.fusion].map((n) => host(store, n));
  afterAll(() => store.dispose());

  it('magnitude scores are |θ|, and a channel scores its L1 norm', async () => {
    const r = await runPlugin(magnitudePrune({ sparsity: 0.5 }), graph, { seed: SEED, steps: 0 });
    expect([...r.scores.get(`prune-magnitude:${TWO_BRANCH.fusion}`)!]).toEqual([
      ...Float32Array.from(f, Math.abs),
    ]);
    const cg = channelGraph();
    const cs = ParamStore.init(cg, SEED);
    const w = cs.get('camera.backbone.conv1.weight').dataSync() as Float32Array;
    const l1 = Array.from({ length: 6 }, (_, ch) =>
      w.reduce((s, v, i) => (i % 6 === ch ? s + Math.abs(v) : s), 0),
    );
    const rs = await runPlugin(magnitudePrune({ sparsity: 0.5, structured: true }), cg, {
      seed: SEED,
      steps: 0,
    });
    rs.scores
      .get('prune-magnitude:camera.backbone.conv1.weight')!
      .forEach((v, i) => expect(v).toBeCloseTo(l1[i], 5));
    cs.dispose();
  });

  it('SNIP scores, normalized per group, are exactly AlterMOMA with β = 0 (its DeCI term)', async () => {
    const snip = await runPlugin(snipPrune({ sparsity: 0.5 }), graph, { seed: SEED, steps: 0 });
    const deci = await runPlugin(alterMoma({ sparsity: 0.5, beta: 0, normalization: 'sum' }), graph, { seed: SEED, steps: 0 });
    for (const name of [TWO_BRANCH.camera, TWO_BRANCH.lidar, TWO_BRANCH.fusion]) {
      const s = snip.scores.get(`prune-snip:${name}`)!;
      const sum = s.reduce((a, b) => a + b, 0);
      deci.scores.get(`altermoma:${name}`)!.forEach((v, i) => expect(v).toBeCloseTo(s[i] / sum, 6));
    }
  });

  it("with the default 'taylor' normalization and β = 0, AlterMOMA's scores are SNIP's, across groups too", async () => {
    const snip = await runPlugin(snipPrune({ sparsity: 0.5 }), graph, { seed: SEED, steps: 0 });
    const deci = await runPlugin(alterMoma({ sparsity: 0.5, beta: 0 }), graph, { seed: SEED, steps: 0 });
    for (const name of [TWO_BRANCH.camera, TWO_BRANCH.lidar, TWO_BRANCH.fusion]) {
      const s = snip.scores.get(`prune-snip:${name}`)!;
      deci.scores.get(`altermoma:${name}`)!.forEach((v, i) => expect(v).toBeCloseTo(s[i], 6));
    }
    expect([...deci.masks].map(([n, m]) => [n, [...m.values]])).toEqual(
      [...snip.masks].map(([n, m]) => [n, [...m.values]]),
    );
  });

  it('SynFlow (one round) scores |θ|·∂R/∂|θ| with R = Σ outputs on all-ones inputs, in float64', async () => {
    const r = await runPlugin(synflowPrune({ sparsity: 0, iterations: 1 }), graph, { seed: SEED, steps: 0 });
    // Two rows of ones: h = [1ᵀ|Wc|, 1ᵀ|Wl|], R = 2·h·|Wf|·1.
    const h = [
      ...[0, 1].map((j) => [0, 1, 2].reduce((s, i) => s + Math.abs(c[i * 2 + j]), 0)),
      ...[0, 1].map((j) => [0, 1].reduce((s, i) => s + Math.abs(l[i * 2 + j]), 0)),
    ];
    const rowF = [0, 1, 2, 3].map((k) => Math.abs(f[k * 2]) + Math.abs(f[k * 2 + 1]));
    const want = {
      [TWO_BRANCH.fusion]: Array.from(f, (v, i) => Math.abs(v) * 2 * h[Math.floor(i / 2)]),
      [TWO_BRANCH.camera]: Array.from(c, (v, i) => Math.abs(v) * 2 * rowF[i % 2]),
      [TWO_BRANCH.lidar]: Array.from(l, (v, i) => Math.abs(v) * 2 * rowF[2 + (i % 2)]),
    };
    for (const [name, w] of Object.entries(want))
      r.scores.get(`prune-synflow:${name}`)!.forEach((v, i) => expect(v).toBeCloseTo(w[i], 4));
  });

  it('iterative SynFlow marks the units pruned along the way below every survivor', async () => {
    const r = await runPlugin(synflowPrune({ sparsity: 0.7, iterations: 3 }), graph, {
      seed: SEED,
      steps: 0,
    });
    const all = [...r.scores.values()].flatMap((s) => [...s]);
    expect(all.filter((v) => v === -1)).toHaveLength(Math.round(0.7 * 18));
    expect(all.filter((v) => v !== -1).every((v) => v >= 0)).toBe(true);
  });
});
