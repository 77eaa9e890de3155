import * as tf from '@tensorflow/tfjs';
import { definePlugin, ParamStore, Pipeline, Rng, type TensorTransform } from '@bevzip/ir';
import { mseTaskLoss, tinyConvGraph, tinyData } from '@bevzip/ir/testing';
import { z } from 'zod';
import { effectiveBits, quantizedBitWidths, QuantizerProbe } from './quant-probe';

/** Symmetric k-bit fake quantization per output channel (last axis), straight-through. */
const fakeQuant = (bits: number): TensorTransform =>
  tf.customGrad(((w: tf.Tensor) => {
    const levels = 2 ** (bits - 1) - 1;
    const value = tf.tidy(() => {
      const scale = tf.div(tf.maximum(tf.max(tf.abs(w), [0, 1, 2].slice(0, w.rank - 1), true), 1e-8), levels);
      return tf.mul(tf.round(tf.div(w, scale)), scale);
    });
    return { value, gradFunc: (dy: tf.Tensor) => dy };
  }) as never) as TensorTransform;

const quantizer = (name: string, bits: number, declare: boolean) =>
  definePlugin({
    name,
    version: '0.0.1',
    apiVersion: '^1.0.0',
    description: 'test quantizer',
    options: z.object({}),
    hooks: () => ({
      quantize: () => {
        const t = fakeQuant(bits);
        if (declare) Object.assign(t, { bits });
        return { weights: { 'camera.backbone.conv1.weight': t, ...(name === 'b' ? { 'head.conv2.weight': t } : {}) } };
      },
    }),
  })();

describe('QuantizerProbe', () => {
  it('counts the bits of the distinct levels per output channel', () => {
    // Channel 0 uses 5 levels (3 bits), channel 1 uses 2 (1 bit): the widest channel decides.
    expect(effectiveBits(Float32Array.from([0, 0, 1, 0, 2, 1, -1, 0, -2, 1]), [5, 2])).toBe(3);
    expect(effectiveBits(Float32Array.from([7, 7, 7]), [3])).toBe(1);
  });

  it('asks the quantizers of a run for their final transforms, also after a stage without steps', async () => {
    const graph = tinyConvGraph();
    const probe = new QuantizerProbe();
    const pipeline = new Pipeline({ seed: 2, graph, stages: [{ name: 'ptq', steps: 0, data: tinyData(), taskLoss: mseTaskLoss }] });
    pipeline.use(probe.wrap(quantizer('a', 3, false))).use(probe.wrap(quantizer('b', 4, true)));
    const result = await pipeline.run();
    try {
      const stage = { name: 'ptq', index: 0, steps: 0 };
      const seen: string[] = [];
      const ctx = (plugin: string) => (seen.push(plugin), { options: {}, rng: Rng.derive(2, plugin), seed: 2, warn: () => undefined, stage, graph, params: result.params, step: 0, scores: new Map() });
      const quant = probe.finalTransforms(ctx);
      expect(seen).toEqual(['a', 'b']);
      // conv1 is claimed first by 'a' (3-bit, measured): 2^(3−1)−1 = 3 levels a side and zero, 7 in all → 3 bits.
      expect(quantizedBitWidths(quant, graph, result.params)).toEqual([
        { name: 'camera.backbone.conv1.weight', kind: 'weight', bits: 3 },
        { name: 'head.conv2.weight', kind: 'weight', bits: 4 },
      ]);
      expect(quantizedBitWidths(probe.finalTransforms((p) => (p === 'b' ? ctx(p) : undefined)), graph, result.params).map((b) => b.bits)).toEqual([4, 4]);
    } finally {
      result.params.dispose();
    }
  });

  it('leaves a plugin without a quantize hook as it is', () => {
    const probe = new QuantizerProbe();
    const p = definePlugin({ name: 'x', version: '0', apiVersion: '^1.0.0', description: '', options: z.object({}), hooks: () => ({ setup: () => undefined }) })();
    const hooks = probe.wrap(p).definition.hooks({});
    expect(Object.keys(hooks)).toEqual(['setup']);
    const params = ParamStore.init(tinyConvGraph(), 1);
    expect(quantizedBitWidths(probe.finalTransforms(() => undefined), tinyConvGraph(), params)).toEqual([]);
    params.dispose();
  });
});
