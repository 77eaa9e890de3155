import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ParamStore, Pipeline, type DataSource, type PipelineConfig, type PipelineResult } from '@bevzip/ir';
import { syntheticData } from '@bevzip/plugin-tester';
import { alterMoma } from './plugin';
import { channelGraph } from './testing-fixtures/two-branch';

const graph = channelGraph();
const taskLoss = (outputs: Record<string, tf.Tensor>) =>
  tf.mean(tf.square(Object.values(outputs)[0])) as tf.Scalar;
const options = { sparsity: 0.8, scoringBatches: 1, reactivationSteps: 2 };
const weights = graph.params.filter((p) => p.role === 'weight').map((p) => p.name);
const total = graph.params
  .filter((p) => p.role === 'weight')
  .reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);

function crashing(data: DataSource, at: number): DataSource {
  return {
    batch: (step, ctx) =>
      step === at ? Promise.reject(new Error(`simulated crash at step ${step}`)) : data.batch(step, ctx),
  };
}

function config(dir: string | undefined, data: DataSource = syntheticData(graph)): PipelineConfig {
  return {
    seed: 11,
    graph,
    stages: [{ name: 'prune-finetune', steps: 6, data, taskLoss, optimizer: { kind: 'adam', lr: 1e-2 } }],
    checkpoint: dir ? { dir, every: 2 } : undefined,
  };
}

const host = (r: PipelineResult) => ({
  params: new Map(r.params.names().map((n) => [n, Float32Array.from(r.params.get(n).dataSync())])),
  masks: new Map([...r.masks.params].map(([n, m]) => [n, Float32Array.from(m.dataSync())])),
});
function release(r: PipelineResult): void {
  r.params.dispose();
  r.masks.params.forEach((m) => m.dispose());
  r.masks.features.forEach((m) => m.dispose());
}

describe('fine-tuning after AlterMOMA', () => {
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'altermoma-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('holds pruned weights at exactly zero while the kept ones train', async () => {
    const result = await new Pipeline(config(undefined)).use(alterMoma(options)).run();
    const { params, masks } = host(result);
    const init = ParamStore.init(graph, 11);
    let zeros = 0;
    let moved = 0;
    for (const w of weights) {
      const m = masks.get(w)!;
      const start = init.get(w).dataSync();
      params.get(w)!.forEach((v, i) => {
        if (m[i] === 0) {
          expect(Math.abs(v)).toBe(0);
          zeros++;
        } else if (v !== start[i]) moved++;
      });
    }
    expect(zeros).toBe(Math.round(0.8 * total));
    // Kept weights behind a fully pruned path get no gradient, so not every kept weight moves.
    expect(moved).toBeGreaterThan(0.5 * (total - zeros));
    init.dispose();
    release(result);
  });

  it('masks survive a checkpoint and a resume, and the resumed run equals an uninterrupted one', async () => {
    const straight = await new Pipeline(config(undefined)).use(alterMoma(options)).run();
    const want = host(straight);
    release(straight);
    await expect(
      new Pipeline(config(tmp, crashing(syntheticData(graph), 3))).use(alterMoma(options)).run(),
    ).rejects.toThrow(/simulated crash at step 3/);
    const events: string[] = [];
    const pipeline = new Pipeline(config(tmp)).use(alterMoma(options));
    pipeline.events.subscribe((e) => events.push(e.type));
    const resumed = await pipeline.run();
    expect(resumed.resumedFrom).toEqual({ stage: 0, step: 2 });
    const got = host(resumed);
    release(resumed);
    expect([...got.masks.keys()].sort()).toEqual([...want.masks.keys()].sort());
    for (const [n, m] of want.masks) expect([...got.masks.get(n)!]).toEqual([...m]);
    for (const [n, v] of want.params)
      expect(Math.max(...v.map((x, i) => Math.abs(x - got.params.get(n)![i])))).toBeLessThanOrEqual(1e-6);
    for (const w of weights)
      got.params.get(w)!.forEach((v, i) => got.masks.get(w)![i] === 0 && expect(Math.abs(v)).toBe(0));
  });
});

describe('an implausible sparsity', () => {
  it.each([
    [1, /options\.sparsity is 1: that removes every prunable weight/],
    [0.995, /options\.sparsity is 0\.995: that removes 99\.5% of the prunable weight/],
  ])('%s is warned about before the first step', async (sparsity, message) => {
    const pipeline = new Pipeline({ ...config(undefined), stages: [{ ...config(undefined).stages[0], steps: 1 }] }).use(alterMoma({ ...options, sparsity }));
    const events: { type: string; message?: string }[] = [];
    pipeline.events.subscribe((e) => events.push(e as never));
    release(await pipeline.run());
    const at = events.findIndex((e) => e.type === 'warning' && message.test(e.message ?? ''));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(at).toBeLessThan(events.findIndex((e) => e.type === 'step'));
  });

  it('0.8 is not', async () => {
    const pipeline = new Pipeline({ ...config(undefined), stages: [{ ...config(undefined).stages[0], steps: 1 }] }).use(alterMoma(options));
    const warnings: string[] = [];
    pipeline.events.subscribe((e) => e.type === 'warning' && warnings.push(e.message));
    release(await pipeline.run());
    expect(warnings.filter((w) => /options\.sparsity/.test(w))).toEqual([]);
  });
});
