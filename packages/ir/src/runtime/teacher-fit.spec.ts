import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../builder';
import { ERROR_CODES } from '../errors';
import { ParamStore } from '../params';
import { z } from 'zod';
import { Pipeline } from './pipeline';
import { definePlugin } from './plugin';
import { featureDistillation, mseTaskLoss, TINY_FEATURE, tinyConvGraph, tinyData } from './testing';

/** The tiny graph's backbone on another image size (or another input name), as a mismatched teacher. */
function teacherFor(input: string, size: number) {
  const b = new GraphBuilder('other-teacher');
  const x = b.input(input, [-1, size, size, 2]);
  b.scoped('camera.backbone', { modality: 'camera', stage: 'backbone' }, () =>
    b.op('relu', [b.op('conv2d', [x, b.param('w', [3, 3, 2, 4]), b.param('bias', [4], { role: 'bias' })], {}, { name: 'conv1' })], {}, { name: 'feature' }),
  );
  b.output(`camera.backbone.feature`);
  const graph = b.build();
  return { graph, params: ParamStore.init(graph, 1) };
}

describe('a teacher that does not fit the data', () => {
  it.each([
    ['another image size', 'image', 8, /input 'image' expects \[-1,8,8,2\] but the batch gives \[2,6,6,2\]/],
    ['an input the data does not give', 'lidar_points', 6, /input 'lidar_points' \[-1,6,6,2\] is not in the batch \(it holds image, target\)/],
  ])('%s is refused before the first step, naming the mismatch', async (_label, input, size, message) => {
    const before = tf.memory().numTensors;
    const teacher = teacherFor(input, size);
    const steps: number[] = [];
    const run = new Pipeline({ seed: 1, graph: tinyConvGraph(), stages: [{ name: 'kd', steps: 3, data: tinyData(4), taskLoss: mseTaskLoss, teacher }] }).use(featureDistillation({ tap: TINY_FEATURE }));
    run.events.subscribe((e) => e.type === 'step' && steps.push(e.step));
    await expect(run.run()).rejects.toMatchObject({ code: ERROR_CODES.PLUGIN_REQUIREMENT, message: expect.stringMatching(message) });
    expect(steps).toEqual([]);
    teacher.params.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the teacher graph in transform', () => {
  it('is given to plugins so they can check it before training, and is absent without a teacher', async () => {
    const seen: (string | undefined)[] = [];
    const probe = definePlugin({
      name: 'probe',
      version: '0.0.1',
      apiVersion: '^1.0.0',
      description: 'records the teacher graph it is shown',
      options: z.object({}),
      hooks: () => ({ transform: (_g, ctx) => void seen.push(ctx.teacherGraph?.name) }),
    });
    const teacher = teacherFor('image', 6);
    const stages = [
      { name: 'kd', steps: 1, data: tinyData(4), taskLoss: mseTaskLoss, teacher },
      { name: 'plain', steps: 1, data: tinyData(4), taskLoss: mseTaskLoss },
    ];
    const result = await new Pipeline({ seed: 1, graph: tinyConvGraph(), stages }).use(probe()).run();
    expect(seen).toEqual(['other-teacher', undefined]);
    result.params.dispose();
    teacher.params.dispose();
  });
});
