import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { run } from '../interpreter';
import { ParamStore } from '../params';
import type { StepEvent, TrainEvent } from './events';
import { Pipeline } from './pipeline';
import type { PipelineConfig } from './pipeline-config';
import { definePlugin, type Plugin } from './plugin';
import { featureDistillation, magnitudePruning } from './testing/example-plugins';
import { TINY_FEATURE, mseTaskLoss, tinyConvGraph, tinyData, tinyTeacher } from './testing/tiny-pipeline';

const graph = tinyConvGraph();
const teacher = tinyTeacher(graph, 3);
afterAll(() => teacher.params.dispose());

function config(over: Partial<PipelineConfig> = {}, steps = 6, crashAt?: number): PipelineConfig {
  return { seed: 3, graph, stages: [{ name: 'compress', steps, data: tinyData(8, crashAt), taskLoss: mseTaskLoss, teacher }], ...over };
}

async function runPipeline(cfg: PipelineConfig, plugins: Plugin<any>[] = [magnitudePruning({ sparsity: 0.5 }), featureDistillation({ tap: TINY_FEATURE, weight: 2 })]) {
  const pipeline = new Pipeline(cfg);
  plugins.forEach((p) => pipeline.use(p));
  const events: TrainEvent[] = [];
  const tensors: number[] = [];
  pipeline.events.subscribe((e) => {
    events.push(e);
    if (e.type === 'step') tensors.push(tf.memory().numTensors);
  });
  const result = await pipeline.run();
  return { ...result, events, tensors, pipeline };
}

const dispose = (r: { params: ParamStore; masks: { params: ReadonlyMap<string, tf.Tensor> } }) => {
  r.params.dispose();
  r.masks.params.forEach((m) => m.dispose());
};
const steps = (events: TrainEvent[]) => events.filter((e): e is StepEvent => e.type === 'step');

describe('Pipeline with pruning and distillation composed', () => {
  it('keeps pruned weights exactly zero, reports the distillation term, and leaks no tensors', async () => {
    const r = await runPipeline(config());
    for (const name of ['camera.backbone.conv1.weight', 'head.conv2.weight']) {
      const w = r.params.get(name).dataSync();
      const m = r.masks.params.get(name)!.dataSync();
      expect(m.filter((v) => v === 0).length).toBe(Math.floor(0.5 * w.length));
      for (let i = 0; i < w.length; i++) if (m[i] === 0) expect(Math.abs(w[i])).toBe(0);
      expect(w.filter((v) => v !== 0).length).toBe(w.length - Math.floor(0.5 * w.length));
    }
    const s = steps(r.events);
    expect(s.map((e) => e.step)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const e of s) {
      expect(Object.keys(e.losses)).toEqual(['task', 'feature-distillation/l2']);
      expect(e.total).toBeCloseTo(e.losses.task + 2 * e.losses['feature-distillation/l2'], 5);
    }
    expect(new Set(r.tensors.slice(1)).size).toBe(1);
    expect(r.events.map((e) => e.type).filter((t) => t !== 'step')).toEqual(['run-start', 'stage-start', 'stage-end', 'run-end']);
    expect(() => r.pipeline.use(magnitudePruning({ sparsity: 0.1 }))).toThrow(expect.objectContaining({ code: 'E_FROZEN' }));
    dispose(r);
  });

  it('reports loss terms equal to a direct float64 computation on the first batch', async () => {
    const r = await runPipeline(config({}, 1), [featureDistillation({ tap: TINY_FEATURE })]);
    const [e] = steps(r.events);
    const batch = await tinyData().batch(0, { seed: 3, stage: 'compress' });
    const init = ParamStore.init(graph, 3);
    const student = run(graph, init, batch.feeds, { training: true, taps: [TINY_FEATURE] });
    const t = run(graph, teacher.params, batch.feeds, { outputs: [], taps: [TINY_FEATURE] });
    const mse = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / a.length;
    expect(e.losses.task).toBeCloseTo(mse(student.outputs['head.conv2'].dataSync(), batch.feeds.target.dataSync()), 5);
    expect(e.losses['feature-distillation/l2']).toBeCloseTo(mse(student.taps[TINY_FEATURE].dataSync(), t.taps[TINY_FEATURE].dataSync()), 5);
    expect(r.params.get('camera.backbone.bn.mean').dataSync()).not.toEqual(init.get('camera.backbone.bn.mean').dataSync());
    expect(r.params.get('camera.backbone.bn.mean').dataSync()).toEqual(student.state['camera.backbone.bn.mean'].dataSync());
    tf.dispose([...Object.values(batch.feeds), ...Object.values(student.outputs), ...Object.values(student.taps), ...Object.values(student.state), ...Object.values(t.taps)]);
    init.dispose();
    dispose(r);
  });

  it('skips steps with a non-finite term, warns with its name, and stops after K in a row', async () => {
    const badSteps = new Set([1, 2]);
    const flaky = (always: boolean) =>
      definePlugin({ name: 'flaky', version: '0.0.1', apiVersion: '^1.0.0', description: 'NaN on some steps', options: z.object({}), hooks: () => ({ loss: (ctx) => ({ bad: tf.scalar(always || badSteps.has(ctx.step) ? NaN : 0) }) }) })();
    const r = await runPipeline(config({ maxNonFiniteSteps: 3 }, 5), [flaky(false)]);
    expect(steps(r.events).map((e) => e.step)).toEqual([0, 3, 4]);
    const warnings = r.events.filter((e) => e.type === 'warning');
    expect(warnings.map((w) => w.type === 'warning' && w.message)).toEqual([
      "stage 'compress' step 1: non-finite loss term 'flaky/bad'; step skipped (1 in a row)",
      "stage 'compress' step 2: non-finite loss term 'flaky/bad'; step skipped (2 in a row)",
    ]);
    dispose(r);
    const before = ParamStore.init(graph, 3);
    const failing = new Pipeline(config({ maxNonFiniteSteps: 3 }, 5)).use(flaky(true));
    const seen: TrainEvent[] = [];
    failing.events.subscribe((e) => seen.push(e));
    await expect(failing.run()).rejects.toMatchObject({ code: 'E_NON_FINITE_LOSS', message: expect.stringContaining("non-finite loss term 'flaky/bad'; step skipped (3 in a row); stopping after 3") });
    expect(seen.at(-1)).toMatchObject({ type: 'run-end', completed: false });
    before.dispose();
  });

  it('resumes from the last checkpoint of a crashed run to bit-equal weights', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-resume-'));
    try {
      const full = await runPipeline(config({ checkpoint: { dir: path.join(root, 'a'), every: 2 } }));
      const crashed = new Pipeline(config({ checkpoint: { dir: path.join(root, 'b'), every: 2 } }, 6, 5)).use(magnitudePruning({ sparsity: 0.5 })).use(featureDistillation({ tap: TINY_FEATURE, weight: 2 }));
      await expect(crashed.run()).rejects.toThrow('simulated crash at step 5');
      expect(fs.readdirSync(path.join(root, 'b')).sort()).toEqual(['step-000002', 'step-000004']);
      const resumed = await runPipeline(config({ checkpoint: { dir: path.join(root, 'b'), every: 2 } }));
      expect(resumed.resumedFrom).toEqual({ stage: 0, step: 4 });
      expect(steps(resumed.events).map((e) => e.step)).toEqual([4, 5]);
      for (const name of full.params.names()) expect(resumed.params.get(name).dataSync()).toEqual(full.params.get(name).dataSync());
      expect(steps(resumed.events).map((e) => e.total)).toEqual(steps(full.events).slice(4).map((e) => e.total));
      dispose(full);
      dispose(resumed);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('hands the student and its masks from a score-only stage to a training stage', async () => {
    const cfg = config();
    cfg.stages = [{ ...cfg.stages[0], name: 'prune', steps: 0 }, { ...cfg.stages[0], name: 'finetune', steps: 2, plugins: [] }];
    const r = await runPipeline(cfg, [magnitudePruning({ sparsity: 0.25 })]);
    const w = r.params.get('head.conv2.weight').dataSync();
    expect(w.filter((v) => v === 0).length).toBe(Math.floor(0.25 * w.length));
    expect(steps(r.events).map((e) => `${e.stage}:${e.step}`)).toEqual(['finetune:0', 'finetune:1']);
    dispose(r);
  });
});
