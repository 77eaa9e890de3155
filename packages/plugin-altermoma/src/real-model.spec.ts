import * as tf from '@tensorflow/tfjs';
import { definePlugin, ParamStore, Pipeline, type Batch, type ScoreContext } from '@bevzip/ir';
import {
  buildBevFusion,
  frameDataSource,
  MICRO_CONFIG,
  syntheticFrames,
  targetTensors,
  taskConfigForModel,
  taskLoss,
  type HostTargets,
} from '@bevzip/bev-fusion';
import { z } from 'zod';
import { alterMomaScores, type UnitScores } from './altermoma';
import { planGroups, type GroupPlan } from './groups';
import { alterMomaOptionsSchema, GROUP_NAMES, type AlterMomaOptions, type GroupName } from './options';
import { globalTopK, keepCount } from './threshold';

// The micro BEVFusion layout (camera encoder, PFN, fuser, decoder, heads) with random weights:
// small enough for a unit test, shaped like the shipped teacher, three groups of very different size.
const graph = buildBevFusion(MICRO_CONFIG, 'fusion');
const cfg = taskConfigForModel(MICRO_CONFIG, 'fusion');
const frames = syntheticFrames(0, 0, 3, 2);
const loss = (outputs: Record<string, tf.Tensor>, batch: Batch) =>
  taskLoss(
    { heatmap: outputs.heatmap, reg: outputs.reg, map: outputs.map },
    targetTensors(batch.targets as HostTargets),
    cfg,
  ).total;
const base = { sparsity: 0.5, scoringBatches: 1, reactivationSteps: 2, reactivationOptimizer: 'sgd', reactivationLr: 1e-3 } as const;

type F64 = Map<string, Float64Array>;

/** Float64 reference of DeCI, both ReRIs and AlterEva, from the runtime's float32 gradients only. */
async function reference(ctx: ScoreContext<unknown>, plan: GroupPlan, o: AlterMomaOptions) {
  const names = plan.prunable.map((p) => p.name);
  const trainable = ctx.graph.params.filter((p) => p.trainable).map((p) => p.name);
  const host = (n: string) => Float64Array.from(ctx.params.get(n).dataSync());
  const set = (n: string, v: Float64Array) => {
    const t = tf.tensor(Float32Array.from(v), ctx.params.get(n).shape);
    ctx.params.get(n).assign(t);
    t.dispose();
  };
  const theta: F64 = new Map(names.map((n) => [n, host(n)]));
  const grad = async (index: number, zeroed: readonly string[] = []): Promise<F64> => {
    const zero = tf.scalar(0);
    const batch = await ctx.batch(index);
    const { grads } = ctx.gradients(batch.feeds, (r) => loss(r.outputs, batch), {
      training: o.scoringMode === 'train',
      masks: new Map(zeroed.map((n) => [n, zero])),
    });
    Object.values(batch.feeds).forEach((t) => t.dispose());
    zero.dispose();
    const out: F64 = new Map([...grads].map(([n, g]) => [n, Float64Array.from(g.dataSync())]));
    grads.forEach((g) => g.dispose());
    return out;
  };
  const g = await grad(0);
  const deci: F64 = new Map(names.map((n) => [n, theta.get(n)!.map((t, i) => Math.abs(t * g.get(n)![i]))]));
  const reri = async (masked: GroupName): Promise<F64> => {
    const zeroed = plan.members[masked];
    const saved: F64 = new Map(trainable.map((n) => [n, host(n)]));
    const g0 = await grad(0, zeroed);
    const w: F64 = new Map([...saved].map(([n, v]) => [n, v.slice()]));
    for (let step = 0; step < o.reactivationSteps; step++) {
      const gs = await grad(o.scoringBatches + step, zeroed);
      for (const n of trainable) {
        const x = w.get(n)!;
        const d = gs.get(n)!;
        for (let i = 0; i < x.length; i++) x[i] -= o.reactivationLr * d[i];
        set(n, x);
      }
    }
    const gB = await grad(0, zeroed);
    for (const [n, v] of saved) set(n, v);
    return new Map(
      names.map((n) => [n, theta.get(n)!.map((t, i) => Math.abs(t * g0.get(n)![i] - t * gB.get(n)![i]))]),
    );
  };
  const reriL = await reri('lidar');
  const reriC = await reri('camera');
  const sum = (m: F64, group: GroupName, count = false) =>
    names.filter((n) => plan.groupOf.get(n) === group).reduce((s, n) => s + (count ? m.get(n)!.length : m.get(n)!.reduce((a, b) => a + b, 0)), 0);
  const sums = Object.fromEntries(
    GROUP_NAMES.map((gr) => [gr, { deci: sum(deci, gr), l: sum(reriL, gr), c: sum(reriC, gr), n: sum(deci, gr, true) }]),
  ) as Record<GroupName, { deci: number; l: number; c: number; n: number }>;
  const aliveEva = (normalization: AlterMomaOptions['normalization']): F64 =>
    new Map(
      names.map((n) => {
        const gr = plan.groupOf.get(n)!;
        const s = sums[gr];
        const scale = normalization === 'sum' ? 1 : normalization === 'mean' ? s.n : s.deci;
        return [
          n,
          deci.get(n)!.map((d, i) => {
            let v = (o.alpha * d) / s.deci;
            if (gr === 'camera') v -= (o.beta * reriL.get(n)![i]) / s.l;
            if (gr === 'lidar') v -= (o.beta * reriC.get(n)![i]) / s.c;
            if (gr === 'fusion') v -= (o.beta / 2) * (reriL.get(n)![i] / s.l + reriC.get(n)![i] / s.c);
            return scale * v;
          }),
        ];
      }),
    );
  return { deci, reriL, aliveEva, sums };
}

const toF32 = (m: F64): UnitScores => new Map([...m].map(([n, v]) => [n, Float32Array.from(v)]));
const keepOf = (s: UnitScores, sparsity: number) =>
  globalTopK(s, keepCount([...s.values()].reduce((n, v) => n + v.length, 0), sparsity));
/** Fraction of units on which two masks agree. */
function agreement(a: Map<string, Uint8Array>, b: Map<string, Uint8Array>): number {
  let same = 0;
  let n = 0;
  for (const [name, k] of a) {
    const l = b.get(name)!;
    for (let i = 0; i < k.length; i++) {
      n++;
      if (k[i] === l[i]) same++;
    }
  }
  return same / n;
}

/** Runs `probe` inside a score hook of a real pipeline over the micro model. */
async function withScoreContext(probe: (ctx: ScoreContext<unknown>) => Promise<void>): Promise<void> {
  const params = ParamStore.init(graph, 3);
  const plugin = definePlugin({
    name: 'probe',
    version: '0.0.0',
    apiVersion: '^1.0.0',
    description: 'runs a check inside the score hook',
    options: z.strictObject({}),
    hooks: () => ({
      score: async (ctx) => {
        await probe(ctx);
        return {};
      },
    }),
  });
  const result = await new Pipeline({
    seed: 0,
    graph,
    params,
    stages: [{ name: 'probe', steps: 0, data: frameDataSource(frames, cfg, 2, 0), taskLoss: loss }],
  })
    .use(plugin())
    .run();
  result.params.dispose();
  result.masks.params.forEach((m) => m.dispose());
  params.dispose();
}

describe('AlterMOMA on the micro BEVFusion layout against a float64 reference', () => {
  it('DeCI, ReRI and AlterEva under each normalization match, and β = 0 with taylor ranks exactly like |θ·g|', async () => {
    await withScoreContext(async (ctx) => {
      const before = tf.memory().numTensors;
      for (const normalization of ['sum', 'mean', 'taylor'] as const) {
        const o = alterMomaOptionsSchema.parse({ ...base, beta: 1, normalization });
        const plan = planGroups(ctx.graph, o);
        const ref = await reference(ctx, plan, o);
        // The groups really differ in size and ReRI is not noise: the case the defect needs.
        expect(ref.sums.fusion.n).toBeGreaterThan(50 * ref.sums.lidar.n);
        expect(ref.sums.camera.l).toBeGreaterThan(0);
        const got = await alterMomaScores(ctx, plan, o, false);
        const want = ref.aliveEva(normalization);
        let scale = 0;
        for (const v of want.values()) for (const x of v) scale = Math.max(scale, Math.abs(x));
        for (const [n, w] of want) {
          const s = got.get(n)!;
          for (let i = 0; i < w.length; i++) expect(Math.abs(s[i] - w[i])).toBeLessThan(1e-4 * scale);
        }
        expect(agreement(keepOf(got, 0.5), keepOf(toF32(want), 0.5))).toBeGreaterThan(0.999);
      }
      const taylor = alterMomaOptionsSchema.parse({ ...base, beta: 0 });
      const plan = planGroups(ctx.graph, taylor);
      const ref = await reference(ctx, plan, taylor);
      const firstOrder = keepOf(toF32(ref.deci), 0.5);
      expect(agreement(keepOf(await alterMomaScores(ctx, plan, taylor, false), 0.5), firstOrder)).toBeGreaterThan(0.999);
      // The paper's per-group sums do not: they move the threshold between groups by their sizes.
      const paper = alterMomaOptionsSchema.parse({ ...base, beta: 0, normalization: 'sum' });
      expect(agreement(keepOf(await alterMomaScores(ctx, plan, paper, false), 0.5), firstOrder)).toBeLessThan(0.995);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
});
