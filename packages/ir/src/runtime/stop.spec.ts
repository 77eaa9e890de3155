import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { BevzipError, ERROR_CODES } from '../errors';
import { Pipeline } from './pipeline';
import type { PipelineConfig } from './pipeline-config';
import { definePlugin } from './plugin';
import { mseTaskLoss, tinyConvGraph, tinyData } from './testing/tiny-pipeline';

const graph = tinyConvGraph();

/** Aborts the run's signal while the given step trains, as a SIGINT handler would. */
const stopper = definePlugin({
  name: 'stopper',
  version: '0.0.1',
  apiVersion: '^1.0.0',
  description: 'requests a stop during one step',
  options: z.object({ atStep: z.number().int(), stage: z.string() }),
  hooks: (o: { atStep: number; stage: string }) => ({
    loss: (ctx) => {
      if (ctx.stage.name === o.stage && ctx.step === o.atStep) controller?.abort();
      return {};
    },
  }),
});
let controller: AbortController | undefined;

const config = (dir: string, stop?: AbortSignal): PipelineConfig => ({
  seed: 3,
  graph,
  stages: [
    { name: 'a', steps: 5, data: tinyData(8), taskLoss: mseTaskLoss },
    { name: 'b', steps: 4, data: tinyData(8), taskLoss: mseTaskLoss },
  ],
  checkpoint: { dir, every: 10, fingerprint: { seed: 3 } },
  stop,
});

const steps = (dir: string) => fs.readdirSync(dir).filter((d) => d.startsWith('step-')).sort();

describe('a requested stop', () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-stop-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it.each([
    ['mid-stage', 'a', 2, { stage: 0, step: 3 }],
    ['in the second stage', 'b', 0, { stage: 1, step: 1 }],
    ['on the last step of a stage', 'a', 4, { stage: 1, step: 0 }],
  ])('%s: ends at the next step boundary with a checkpoint there, and resumes bit-equal', async (_label, stage, atStep, resumedAt) => {
    const full = await new Pipeline(config(path.join(root, 'full'))).use(stopper({ atStep: -1, stage })).run();
    controller = new AbortController();
    const dir = path.join(root, 'cut');
    const err = await new Pipeline(config(dir, controller.signal)).use(stopper({ atStep, stage })).run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BevzipError);
    expect((err as BevzipError).code).toBe(ERROR_CODES.INTERRUPTED);
    expect((err as Error).message).toMatch(/stopped on request/);
    expect(steps(dir).length).toBeGreaterThan(0);
    controller = undefined;
    const before = tf.memory().numTensors;
    const resumed = await new Pipeline(config(dir)).use(stopper({ atStep: -1, stage })).run();
    expect(resumed.resumedFrom).toEqual(resumedAt);
    for (const n of full.params.names()) expect(Array.from(resumed.params.get(n).dataSync())).toEqual(Array.from(full.params.get(n).dataSync()));
    full.params.dispose();
    resumed.params.dispose();
    [...full.masks.params.values(), ...resumed.masks.params.values()].forEach((m) => m.dispose());
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
  });

  it('before the first step writes a checkpoint at step 0 and says so', async () => {
    controller = new AbortController();
    controller.abort();
    const dir = path.join(root, 'early');
    await expect(new Pipeline(config(dir, controller.signal)).use(stopper({ atStep: -1, stage: 'a' })).run()).rejects.toThrow(/stage 'a' step 0 of 5, with a checkpoint at that step/);
    expect(steps(dir).length).toBe(1);
    controller = undefined;
  });
});

describe('a stop requested from an event-loop callback, as a signal handler is', () => {
  it('is seen at the next step boundary, not after the run: the event loop gets a turn between steps', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-signal-'));
    const signalled = new AbortController();
    // Node runs a SIGINT handler as an event-loop callback, like this timer; a run whose steps only
    // await settled promises would not let it run until the end.
    const sender = definePlugin({
      name: 'signal-sender',
      version: '0.0.1',
      apiVersion: '^1.0.0',
      description: 'schedules a stop request during one step',
      options: z.object({}),
      hooks: () => ({
        loss: (ctx) => {
          if (ctx.step === 1) setTimeout(() => signalled.abort(), 0);
          return {};
        },
      }),
    });
    try {
      const long: PipelineConfig = { ...config(path.join(root, 'ck'), signalled.signal), stages: [{ name: 'a', steps: 200, data: tinyData(8), taskLoss: mseTaskLoss }] };
      const err = await new Pipeline(long).use(sender()).run().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BevzipError);
      expect((err as BevzipError).code).toBe(ERROR_CODES.INTERRUPTED);
      const at = Number(/step (\d+) of 200/.exec((err as Error).message)?.[1]);
      expect(at).toBeGreaterThanOrEqual(2);
      expect(at).toBeLessThanOrEqual(5);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
