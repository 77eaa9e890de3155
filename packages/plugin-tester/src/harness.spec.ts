import * as tf from '@tensorflow/tfjs';
import { definePlugin, PLUGIN_API_VERSION } from '@bevzip/ir';
import { tinyConvGraph } from '@bevzip/ir/testing';
import { z } from 'zod';
import { runPlugin, syntheticData } from './harness';

describe('runPlugin', () => {
  it('uses the given teacher graph and data source', async () => {
    const seen: { teacher?: string; boxes?: unknown }[] = [];
    const probe = definePlugin({
      name: 'probe',
      version: '0.0.1',
      apiVersion: `^${PLUGIN_API_VERSION}`,
      description: 'records what the stage gives it',
      options: z.object({}),
      requires: () => ({ teacher: { taps: [] } }),
      hooks: () => ({
        transform: (_g, ctx) => void seen.push({ teacher: ctx.teacherGraph?.name }),
        loss: (ctx) => void seen.push({ boxes: ctx.batch.boxes }),
      }),
    });
    const graph = tinyConvGraph();
    const teacher = { ...tinyConvGraph(), name: 'other-teacher' };
    const boxes = [[{ x: 1, y: 2, length: 3, width: 1, yaw: 0, classIndex: 0 }], []];
    const data = () => {
      const base = syntheticData(graph);
      return { batch: async (step: number, ctx: { seed: number; stage: string }) => ({ ...(await base.batch(step, ctx)), boxes }) };
    };
    const before = tf.memory().numTensors;
    await runPlugin(probe(), graph, { data, teacher });
    expect(seen).toEqual([{ teacher: 'other-teacher' }, { boxes }]);
    expect(tf.memory().numTensors).toBe(before);
    seen.length = 0;
    await runPlugin(probe(), graph);
    expect(seen).toEqual([{ teacher: graph.name }, { boxes: undefined }]);
  });
});
