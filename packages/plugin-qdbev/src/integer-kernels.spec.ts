import 'reflect-metadata';
import { GraphBuilder, Pipeline, type Batch, type DataSource } from '@bevzip/ir';
import * as tf from '@tensorflow/tfjs';
import { qdbevQuantize } from './quantize-plugin';

/** conv → transposed conv (the second has no integer kernel in onnxruntime). */
function upsampler() {
  const b = new GraphBuilder('upsampler');
  const x = b.input('image', [-1, 4, 4, 2]);
  b.input('target', [-1, 8, 8, 2]);
  const f = b.scoped('camera.backbone', { modality: 'camera', stage: 'backbone' }, () => b.op('relu', [b.op('conv2d', [x, b.param('w1', [3, 3, 2, 3])], {}, { name: 'conv' })], {}, { name: 'act' }));
  const y = b.scoped('head', { modality: 'fusion', stage: 'head' }, () => b.op('conv_transpose2d', [f, b.param('w2', [2, 2, 2, 3])], { strides: [2, 2] }, { name: 'up' }));
  b.output(y);
  return b.build();
}

const data: DataSource = {
  batch: (): Batch => ({ feeds: { image: tf.randomUniform([1, 4, 4, 2], -1, 1, 'float32', 1), target: tf.zeros([1, 8, 8, 2]) } }),
};
const taskLoss = (outputs: Record<string, tf.Tensor>, batch: Batch) => tf.mean(tf.squaredDifference(outputs['head.up'], batch.feeds.target)) as tf.Scalar;
const options = { ops: ['conv2d', 'conv_transpose2d'] as ('conv2d' | 'conv_transpose2d')[], firstLayer: 'quantize' as const, lastLayer: 'quantize' as const, parts: { backbone: ['backbone' as const], head: ['head' as const] } };

describe('layers the exported file cannot run as integer kernels', () => {
  it('are named in a warning before the first step', async () => {
    const pipeline = new Pipeline({ seed: 1, graph: upsampler(), stages: [{ name: 's', steps: 1, data, taskLoss }] }).use(qdbevQuantize(options));
    const events: { type: string; message?: string }[] = [];
    pipeline.events.subscribe((e) => events.push(e as never));
    const result = await pipeline.run();
    const warning = events.findIndex((e) => e.type === 'warning' && /will run in float/.test(e.message ?? ''));
    expect(warning).toBeGreaterThanOrEqual(0);
    expect(events[warning].message).toMatch(/1 quantized layer\(s\) .*'head\.up' \(conv_transpose2d: onnxruntime's CPU provider has no QLinearConvTranspose/);
    expect(warning).toBeLessThan(events.findIndex((e) => e.type === 'step'));
    result.params.dispose();
  });

  it("are refused before training with integerKernels: 'require'", async () => {
    const pipeline = new Pipeline({ seed: 1, graph: upsampler(), stages: [{ name: 's', steps: 1, data, taskLoss }] }).use(qdbevQuantize({ ...options, integerKernels: 'require' }));
    const steps: unknown[] = [];
    pipeline.events.subscribe((e) => e.type === 'step' && steps.push(e));
    await expect(pipeline.run()).rejects.toThrow(/integerKernels is 'require', but 1 quantized layer\(s\) cannot run as integer kernels in onnxruntime: 'head\.up'/);
    expect(steps).toEqual([]);
  });
});
