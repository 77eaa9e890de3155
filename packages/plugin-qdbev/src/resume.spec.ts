import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Pipeline } from '@bevzip/ir';
import { mseTaskLoss, tinyConvGraph, tinyData } from '@bevzip/ir/testing';
import { qdbevQuantize } from './quantize-plugin';

const graph = tinyConvGraph();
const parts = { backbone: ['backbone' as const], head: ['head' as const] };
const schedule = { s1: ['backbone'], s2: ['backbone', 'head'] };

async function qat(dir: string, crashAt?: number) {
  let ranges: Record<string, number> = {};
  const data = tinyData(8, crashAt);
  const pipeline = new Pipeline({
    seed: 4,
    graph,
    stages: [{ name: 's1', steps: 2, data, taskLoss: mseTaskLoss }, { name: 's2', steps: 6, data, taskLoss: mseTaskLoss }],
    checkpoint: { dir, every: 2 },
  }).use(qdbevQuantize({ firstLayer: 'quantize', lastLayer: 'quantize', parts, schedule, onState: (s) => (ranges = s.ranges) }));
  const result = await pipeline.run();
  return { result, ranges };
}

describe('progressive QAT interrupted mid-stage', () => {
  it('resumes to bit-equal weights and calibrated ranges', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-qat-'));
    try {
      const full = await qat(path.join(root, 'a'));
      await expect(qat(path.join(root, 'b'), 5)).rejects.toThrow('simulated crash');
      const before = tf.memory().numTensors;
      const resumed = await qat(path.join(root, 'b'));
      expect(resumed.result.resumedFrom).toEqual({ stage: 1, step: 4 });
      expect(Object.keys(full.ranges).length).toBeGreaterThan(0);
      expect(resumed.ranges).toEqual(full.ranges);
      for (const n of full.result.params.names()) expect(resumed.result.params.get(n).dataSync()).toEqual(full.result.params.get(n).dataSync());
      full.result.params.dispose();
      resumed.result.params.dispose();
      expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
