import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { definePlugin, ParamStore, Pipeline, type PipelineResult, type StageConfig } from '@bevzip/ir';
import { mseTaskLoss, tinyConvGraph, tinyData } from '@bevzip/ir/testing';
import { runPlugin } from '@bevzip/plugin-tester';
import { impDensities, impKeepCount, impStages } from './imp';
import { impPrune, magnitudePrune } from './plugin';

const graph = tinyConvGraph();
const KERNELS = ['camera.backbone.conv1.weight', 'head.conv2.weight'];
const N = 3 * 3 * 2 * 4 + 3 * 3 * 4 * 2; // 144 prunable kernel weights
const SEED = 3;

const host = (t: tf.Tensor) => Float32Array.from(t.dataSync());

/** What a post-ordered probe sees in every stage: weights after IMP's transform, and per step the held masks, the weights and the tensor count. */
interface Seen {
  atStart: Map<string, Float32Array>[];
  steps: { stage: number; step: number; masks: Map<string, Float32Array>; weights: Map<string, Float32Array>; tensors: number }[];
}
function probe(seen: Seen) {
  return definePlugin({
    name: 'probe',
    version: '0.0.0',
    apiVersion: '^1.0.0',
    description: 'records weights and masks',
    options: z.object({}),
    hooks: () => ({
      transform: (_g, ctx) => void seen.atStart.push(new Map(KERNELS.map((k) => [k, host(ctx.params.get(k))]))),
      mask: {
        order: 'post',
        handler: (held, ctx) => {
          seen.steps.push({
            stage: ctx.stage.index,
            step: ctx.step,
            masks: new Map([...held.params].map(([k, m]) => [k, host(m)])),
            weights: new Map(KERNELS.map((k) => [k, host(ctx.params.get(k))])),
            tensors: tf.memory().numTensors,
          });
        },
      },
    }),
  })({});
}

const fineTune = (steps: number): StageConfig => ({
  name: 'finetune',
  steps,
  data: tinyData(8),
  taskLoss: mseTaskLoss,
  optimizer: { kind: 'adam', lr: 5e-2 },
  schedule: { kind: 'cosine', totalSteps: steps },
});

const kept = (masks: Map<string, Float32Array>) =>
  KERNELS.reduce((n, k) => n + (masks.get(k)?.reduce((c, v) => c + v, 0) ?? 0), 0);

function release(r: PipelineResult): void {
  r.params.dispose();
  r.masks.params.forEach((m) => m.dispose());
  r.masks.features.forEach((m) => m.dispose());
}

async function impRun(options: Parameters<typeof impPrune>[0], rounds: number, steps = 9) {
  const seen: Seen = { atStart: [], steps: [] };
  const init = ParamStore.init(graph, SEED);
  const result = await new Pipeline({ seed: SEED, graph, params: init, stages: impStages(fineTune(steps), rounds) })
    .use(impPrune(options))
    .use(probe(seen))
    .run();
  return { seen, init, result };
}

describe('IMP schedule', () => {
  it('per-round densities follow (1 − ρ)^(r/k) and the keep counts end exactly at N − round(ρN)', () => {
    const d = impDensities(0.8, 3);
    expect(d[0]).toBeCloseTo(0.5848035476, 9); // 0.2^(1/3)
    expect(d[1]).toBeCloseTo(0.3419951893, 9); // 0.2^(2/3)
    expect(d[2]).toBe(1 - 0.8);
    expect([1, 2, 3].map((r) => impKeepCount(144, 0.8, r, 3))).toEqual([84, 49, 29]);
    expect(impDensities(0.5, 1)).toEqual([0.5]);
    expect(impKeepCount(144, 0.5, 1, 1)).toBe(72);
    // A round's target never drops below the final count (it can only tie with it).
    expect([1, 2, 3, 4].map((r) => impKeepCount(3, 0.34, r, 4))).toEqual([3, 2, 2, 2]);
  });

  it('impStages splits the steps, restarts the cosine per round and reads the unsplit stage\'s batches', async () => {
    const calls: number[] = [];
    const base = { ...fineTune(10), data: { batch: (step: number) => (calls.push(step), { feeds: {} }) } };
    const stages = impStages(base, 3);
    expect(stages.map((s) => [s.name, s.steps, s.schedule])).toEqual([
      ['finetune-r1', 4, { kind: 'cosine', totalSteps: 4 }],
      ['finetune-r2', 3, { kind: 'cosine', totalSteps: 3 }],
      ['finetune-r3', 3, { kind: 'cosine', totalSteps: 3 }],
    ]);
    for (const s of stages) for (let i = 0; i < s.steps; i++) await s.data.batch(i, { seed: 0, stage: s.name });
    expect(calls).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(() => impStages(fineTune(2), 3)).toThrow(/has 2 steps, fewer than the 3 rounds/);
  });
});

describe('IMP pipeline', () => {
  it('prunes to each round\'s density, keeps earlier rounds\' pruned weights at exactly zero, and ends exactly at the target', async () => {
    const { seen, init, result } = await impRun({ sparsity: 0.8, rounds: 3 }, 3);
    const want = [84, 49, 29];
    for (const stage of [0, 1, 2]) {
      const steps = seen.steps.filter((s) => s.stage === stage);
      expect(steps.length).toBe(3);
      for (const s of steps) {
        expect(kept(s.masks)).toBe(want[stage]);
        // Every weight the held mask removes is exactly zero at every step (after the optimizer and re-masking).
        for (const k of KERNELS) s.masks.get(k)!.forEach((m, i) => m === 0 && s.step > 0 && expect(Math.abs(s.weights.get(k)![i])).toBe(0));
      }
      if (stage > 0) {
        // Masks are nested: nothing pruned in an earlier round comes back, and its weight is zero when the round starts.
        const before = seen.steps.filter((s) => s.stage === stage - 1).at(-1)!;
        for (const k of KERNELS) {
          before.masks.get(k)!.forEach((m, i) => {
            if (m === 0) {
              expect(steps[0].masks.get(k)![i]).toBe(0);
              expect(Math.abs(seen.atStart[stage].get(k)![i])).toBe(0);
            }
          });
        }
      }
      // Tensor count flat across the steps of a round.
      expect(new Set(steps.slice(1).map((s) => s.tensors)).size).toBe(1);
    }
    const final = new Map([...result.masks.params].map(([k, m]) => [k, host(m)]));
    expect(kept(final)).toBe(N - Math.round(0.8 * N));
    for (const k of KERNELS) final.get(k)!.forEach((m, i) => m === 0 && expect(Math.abs(host(result.params.get(k))[i])).toBe(0));
    init.dispose();
    release(result);
  });

  it('ranks each round by the trained magnitudes: round 2 keeps the largest |θ| after round 1\'s fine-tune', async () => {
    const { seen, init, result } = await impRun({ sparsity: 0.75, rounds: 2 }, 2, 6);
    const trained = seen.atStart[1]; // rewind 'none': round 2 starts from the trained weights
    const mask = seen.steps.find((s) => s.stage === 1)!.masks;
    const keptMin = Math.min(...KERNELS.flatMap((k) => [...trained.get(k)!].filter((_, i) => mask.get(k)![i] === 1).map(Math.abs)));
    const prunedMax = Math.max(...KERNELS.flatMap((k) => [...trained.get(k)!].filter((_, i) => mask.get(k)![i] === 0).map(Math.abs)));
    expect(keptMin).toBeGreaterThanOrEqual(prunedMax);
    // …and those weights are not the ones round 1 started from: training moved them.
    expect(KERNELS.some((k) => trained.get(k)!.some((v, i) => v !== 0 && v !== host(init.get(k))[i]))).toBe(true);
    init.dispose();
    release(result);
  });

  it('with rewind: start, every later round starts from the first round\'s weights, pruned ones at zero', async () => {
    const { seen, init, result } = await impRun({ sparsity: 0.8, rounds: 3, rewind: 'start' }, 3);
    for (const stage of [1, 2]) {
      const mask = seen.steps.find((s) => s.stage === stage)!.masks;
      for (const k of KERNELS) {
        const start = host(init.get(k));
        seen.atStart[stage].get(k)!.forEach((v, i) => expect(mask.get(k)![i] === 1 ? v : Math.abs(v)).toBe(mask.get(k)![i] === 1 ? start[i] : 0));
      }
    }
    expect(kept(new Map([...result.masks.params].map(([k, m]) => [k, host(m)])))).toBe(29);
    init.dispose();
    release(result);
  });

  it('one round is one-shot magnitude pruning', async () => {
    const imp = await runPlugin(impPrune({ sparsity: 0.6, rounds: 1 }), graph, { seed: SEED, steps: 1 });
    const mag = await runPlugin(magnitudePrune({ sparsity: 0.6 }), graph, { seed: SEED, steps: 1 });
    for (const k of KERNELS) expect([...imp.masks.get(k)!.values]).toEqual([...mag.masks.get(k)!.values]);
  });

  it('structured: each round keeps its share of output channels, the last exactly N − round(ρN)', async () => {
    const seen: Seen = { atStart: [], steps: [] };
    const result = await new Pipeline({ seed: SEED, graph, stages: impStages(fineTune(4), 2) })
      .use(impPrune({ sparsity: 0.5, rounds: 2, structured: true }))
      .use(probe(seen))
      .run();
    // conv1 has 4 removable channels (conv2's reach the output and are never candidates).
    const channels = (s: Seen['steps'][number]) => s.masks.get('camera.backbone.conv1.weight')!.reduce((c, v) => c + v, 0);
    expect([0, 1].map((st) => channels(seen.steps.find((s) => s.stage === st)!))).toEqual([impKeepCount(4, 0.5, 1, 2), 2]);
    release(result);
  });

  it('warns when the run gives fewer stages than rounds, naming the density reached', async () => {
    const r = await runPlugin(impPrune({ sparsity: 0.8, rounds: 3 }), graph, { seed: SEED, steps: 1 });
    expect(r.events.some((e) => e.type === 'warning' && /ended after 1 of 3 rounds.*density 0\.5848/.test(e.message))).toBe(true);
  });

  it('leaves no tensor behind across whole runs, with and without rewinding', async () => {
    for (const rewind of ['none', 'start'] as const) {
      const first = await impRun({ sparsity: 0.8, rounds: 3, rewind }, 3, 3);
      first.init.dispose();
      release(first.result);
      const before = tf.memory().numTensors;
      const second = await impRun({ sparsity: 0.8, rounds: 3, rewind }, 3, 3);
      second.init.dispose();
      release(second.result);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  describe('checkpoints', () => {
    let tmp: string;
    beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'imp-'))));
    afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it('a run killed in round 2 resumes to the same masks and weights, rewinding from the saved start', async () => {
      const stages = (crashAt?: number) =>
        impStages({ ...fineTune(9), data: tinyData(8, crashAt) }, 3);
      const options = { sparsity: 0.8, rounds: 3, rewind: 'start' as const };
      const straight = await new Pipeline({ seed: SEED, graph, stages: stages() }).use(impPrune(options)).run();
      // Step 4 of the unsplit stage is step 1 of round 2.
      await expect(
        new Pipeline({ seed: SEED, graph, stages: stages(4), checkpoint: { dir: tmp, every: 1 } }).use(impPrune(options)).run(),
      ).rejects.toThrow(/simulated crash at step 4/);
      const resumed = await new Pipeline({ seed: SEED, graph, stages: stages(), checkpoint: { dir: tmp, every: 1 } }).use(impPrune(options)).run();
      for (const k of KERNELS) {
        expect([...host(resumed.masks.params.get(k)!)]).toEqual([...host(straight.masks.params.get(k)!)]);
        expect([...host(resumed.params.get(k))]).toEqual([...host(straight.params.get(k))]);
      }
      release(straight);
      release(resumed);
    });
  });
});
