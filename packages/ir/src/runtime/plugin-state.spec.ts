import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { Pipeline } from './pipeline';
import type { PipelineConfig } from './pipeline-config';
import { definePlugin } from './plugin';
import { mseTaskLoss, tinyConvGraph, tinyData } from './testing/tiny-pipeline';

const graph = tinyConvGraph();

/** Keeps a step count and a tensor accumulator across steps, as a stateful plugin would. */
const counter = definePlugin({
  name: 'counter',
  version: '0.0.1',
  apiVersion: '^1.0.0',
  description: 'cross-step state',
  options: z.object({}),
  hooks: () => {
    let steps = 0;
    let acc: tf.Tensor | undefined;
    let restoredWith: unknown;
    return {
      loss: (ctx) => {
        steps++;
        const next = tf.tidy(() => tf.add(acc ?? tf.zeros([1]), tf.scalar(ctx.step + 1)));
        acc?.dispose();
        acc = tf.keep(next);
        return {};
      },
      state: {
        save: () => ({ json: { steps }, tensors: new Map(acc ? [['acc', acc]] : []) }),
        restore: ({ json, tensors }) => {
          restoredWith = json;
          steps = (json as { steps: number }).steps;
          acc = tf.keep(tf.clone(tensors.get('acc')!));
        },
      },
      finalize: () => {
        results.push({ steps, acc: acc ? Array.from(acc.dataSync()) : [], restoredWith });
        acc?.dispose();
      },
    };
  },
});
const results: { steps: number; acc: number[]; restoredWith: unknown }[] = [];

const config = (dir: string, crashAt?: number, over: Partial<PipelineConfig['checkpoint']> = {}): PipelineConfig => ({
  seed: 5,
  graph,
  stages: [{ name: 's', steps: 6, data: tinyData(8, crashAt), taskLoss: mseTaskLoss }],
  checkpoint: { dir, every: 2, fingerprint: { seed: 5 }, ...over },
});

describe('plugin state in checkpoints', () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-pstate-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('survives an interrupted run, restores equal to an uninterrupted run, and leaks no tensors', async () => {
    results.length = 0;
    const full = await new Pipeline(config(path.join(root, 'a'))).use(counter()).run();
    await expect(new Pipeline(config(path.join(root, 'b'), 5)).use(counter()).run()).rejects.toThrow('simulated crash');
    const before = tf.memory().numTensors;
    const resumed = await new Pipeline(config(path.join(root, 'b'))).use(counter()).run();
    expect(resumed.resumedFrom).toEqual({ stage: 0, step: 4 });
    const [a, , c] = results;
    expect(c.restoredWith).toEqual({ steps: 4 });
    expect(c.steps).toBe(a.steps);
    expect(c.acc).toEqual(a.acc);
    expect(a.acc).toEqual([21]);
    for (const n of full.params.names()) expect(resumed.params.get(n).dataSync()).toEqual(full.params.get(n).dataSync());
    full.params.dispose();
    resumed.params.dispose();
    [...full.masks.params.values(), ...resumed.masks.params.values()].forEach((m) => m.dispose());
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
  });

  it('refuses a changed fingerprint naming the field, and a required resume with nothing to resume', async () => {
    const dir = path.join(root, 'c');
    await expect(new Pipeline(config(dir, 3)).use(counter()).run()).rejects.toThrow('simulated crash');
    await expect(new Pipeline(config(dir, undefined, { fingerprint: { seed: 6 } })).use(counter()).run()).rejects.toThrow("seed (checkpoint: 5, now: 6)");
    await expect(new Pipeline(config(path.join(root, 'none'), undefined, { resume: 'required' })).use(counter()).run()).rejects.toThrow('nothing to resume');
  });

  it('cleans orphaned .tmp folders and keeps the last N mid-stage checkpoints plus stage ends', async () => {
    const dir = path.join(root, 'd');
    fs.mkdirSync(path.join(dir, 'step-000002.tmp-999999999'), { recursive: true });
    const r = await new Pipeline({ ...config(dir, undefined, { every: 1, keepLast: 2 }) }).use(counter()).run();
    expect(fs.readdirSync(dir).sort()).toEqual(['step-000004', 'step-000005', 'step-000006']);
    r.params.dispose();
  });
});
