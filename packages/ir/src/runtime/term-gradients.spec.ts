import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { run } from '../interpreter';
import { ParamStore } from '../params';
import type { TrainEvent, StepEvent } from './events';
import type { PipelineConfig } from './pipeline-config';
import { Pipeline } from './pipeline';
import { definePlugin } from './plugin';
import { mseTaskLoss, TINY_FEATURE, tinyConvGraph, tinyData } from './testing/tiny-pipeline';

const WEIGHT = 0.3;
const featureEnergy = definePlugin({
  name: 'energy',
  version: '0.0.1',
  apiVersion: '^1.0.0',
  description: 'mean squared backbone feature, weighted',
  options: z.object({}),
  requires: () => ({ taps: [TINY_FEATURE] }),
  hooks: () => ({ loss: (ctx) => ({ e: { value: tf.mean(tf.square(ctx.student.taps[TINY_FEATURE])) as tf.Scalar, weight: WEIGHT } }) }),
});

const norm = (grads: Record<string, tf.Tensor | null>) => Math.sqrt(Object.values(grads).reduce((s, g) => s + (g ? tf.sum(tf.square(g)).dataSync()[0] : 0), 0));

describe('per-term gradient norms in step events', () => {
  it('equal the norms of each weighted term differentiated alone, on the steps asked for, without leaking', async () => {
    const graph = tinyConvGraph();
    const start = ParamStore.init(graph, 5);
    const events: StepEvent[] = [];
    const pipeline = new Pipeline({ seed: 5, graph, params: start, stages: [{ name: 's', steps: 7, data: tinyData(8), taskLoss: mseTaskLoss, termGradientEvery: 3 }] }).use(featureEnergy());
    pipeline.events.subscribe((e) => e.type === 'step' && events.push(e));
    const before = tf.memory().numTensors;
    const result = await pipeline.run();
    result.params.dispose();
    [...result.masks.params.values(), ...result.masks.features.values()].forEach((m) => m.dispose());
    expect(tf.memory().numTensors).toBe(before);
    expect(events.filter((e) => e.termGradNorms).map((e) => e.step)).toEqual([0, 3, 6]);

    // Reference at step 0: the starting weights and the first batch, each term's gradient alone.
    const batch = await tinyData(8).batch(0, { seed: 5, stage: 's' });
    const vars = graph.params.filter((p) => p.trainable).map((p) => start.get(p.name));
    const forward = () => run(graph, start, batch.feeds, { training: true, taps: [TINY_FEATURE] });
    const task = tf.variableGrads(() => mseTaskLoss(forward().outputs, batch), vars);
    const energy = tf.variableGrads(() => tf.mul(tf.mean(tf.square(forward().taps[TINY_FEATURE])), WEIGHT) as tf.Scalar, vars);
    const measured = events[0].termGradNorms!;
    expect(Object.keys(measured).sort()).toEqual(['energy/e', 'task']);
    expect(measured.task).toBeCloseTo(norm(task.grads), 5);
    expect(measured['energy/e']).toBeCloseTo(norm(energy.grads), 5);
    // And the step's own gradient is their sum.
    const sum = Object.fromEntries(Object.keys(task.grads).map((k) => [k, energy.grads[k] ? tf.add(task.grads[k], energy.grads[k]) : tf.clone(task.grads[k])]));
    expect(events[0].gradNorm).toBeCloseTo(norm(sum), 5);
    tf.dispose([task.value, energy.value, ...Object.values(task.grads), ...Object.values(energy.grads).filter((g) => g != null), ...Object.values(sum), ...Object.values(batch.feeds)]);
    start.dispose();
  });
});

const shared = definePlugin({
  name: 'energy',
  version: '0.0.1',
  apiVersion: '^1.0.0',
  description: 'mean squared backbone feature, at a share of the task gradient',
  options: z.object({ share: z.number() }),
  requires: () => ({ taps: [TINY_FEATURE] }),
  hooks: (o: { share: number }) => ({ loss: (ctx) => ({ e: { value: tf.mean(tf.square(ctx.student.taps[TINY_FEATURE])) as tf.Scalar, gradientShare: o.share } }) }),
});

describe('a loss term asking for a gradient share', () => {
  const graph = tinyConvGraph();
  const config = (dir?: string, crashAt?: number): PipelineConfig => ({
    seed: 2,
    graph,
    stages: [
      { name: 'a', steps: 4, data: tinyData(8), taskLoss: mseTaskLoss, termGradientEvery: 1 },
      { name: 'b', steps: 4, data: tinyData(8, crashAt), taskLoss: mseTaskLoss, termGradientEvery: 1 },
    ],
    ...(dir ? { checkpoint: { dir, every: 1 } } : {}),
  });

  it('gets the weight that gives it that share at each stage start, reported once per stage, kept on resume', async () => {
    const events: TrainEvent[] = [];
    const pipeline = new Pipeline(config()).use(shared({ share: 0.25 }));
    pipeline.events.subscribe((e) => events.push(e));
    const before = tf.memory().numTensors;
    const full = await pipeline.run();
    const weights = events.filter((e) => e.type === 'metric' && e.name === 'weight/energy/e') as Extract<TrainEvent, { type: 'metric' }>[];
    expect(weights.map((w) => [w.stage, w.step])).toEqual([['a', 0], ['b', 0]]);
    for (const w of weights) expect(w.value).toBeGreaterThan(0);
    // At the calibration step the weighted term's own gradient is a quarter of the task's.
    for (const stage of ['a', 'b']) {
      const first = events.find((e) => e.type === 'step' && e.stage === stage && e.step === 0) as StepEvent;
      expect(first.termGradNorms!['energy/e'] / first.termGradNorms!.task).toBeCloseTo(0.25, 4);
    }

    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-share-'));
    try {
      await expect(new Pipeline(config(root, 2)).use(shared({ share: 0.25 })).run()).rejects.toThrow(/simulated crash/);
      const again: TrainEvent[] = [];
      const resumed = new Pipeline(config(root)).use(shared({ share: 0.25 }));
      resumed.events.subscribe((e) => again.push(e));
      const r = await resumed.run();
      expect(r.resumedFrom).toEqual({ stage: 1, step: 2 });
      // The stage's weight came back from the checkpoint: nothing is recalibrated mid-stage.
      expect(again.some((e) => e.type === 'metric' && e.name.startsWith('weight/'))).toBe(false);
      for (const n of full.params.names()) expect(Array.from(r.params.get(n).dataSync())).toEqual(Array.from(full.params.get(n).dataSync()));
      r.params.dispose();
      [...r.masks.params.values(), ...r.masks.features.values()].forEach((m) => m.dispose());
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
    full.params.dispose();
    [...full.masks.params.values(), ...full.masks.features.values()].forEach((m) => m.dispose());
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
  });

  it('refuses a share that is not a positive number, naming the plugin and term', async () => {
    await expect(new Pipeline(config()).use(shared({ share: -1 })).run()).rejects.toThrow(/plugin 'energy' failed in hook 'loss': term 'e': gradientShare must be a positive number, got -1/);
  });
});
