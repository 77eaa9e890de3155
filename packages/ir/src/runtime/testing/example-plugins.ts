import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { definePlugin } from '../plugin';

/**
 * Unstructured magnitude pruning, layer by layer: scores are |w| of each weight param in `scope`
 * (all weights when omitted); the mask zeroes the `sparsity` fraction with the smallest scores
 * (ties broken by position), contributed once at the start of the stage.
 */
export const magnitudePruning = definePlugin({
  name: 'magnitude-pruning',
  version: '0.1.0',
  apiVersion: '^1.0.0',
  description: 'Zeroes the smallest-magnitude weights of each layer',
  options: z.object({ sparsity: z.number().min(0).max(1), scope: z.string().optional() }),
  hooks: (o) => ({
    score: (ctx) => {
      const weights = ctx.graph.params.filter((p) => p.role === 'weight' && p.trainable && (!o.scope || p.scope === o.scope || p.scope.startsWith(`${o.scope}.`)));
      return Object.fromEntries(weights.map((p) => [`magnitude:${p.name}`, tf.abs(ctx.params.get(p.name))]));
    },
    mask: (_held, ctx) => {
      if (ctx.step !== 0) return;
      const params = new Map<string, tf.Tensor>();
      for (const [key, score] of ctx.scores) {
        if (!key.startsWith('magnitude:')) continue;
        const s = score.dataSync();
        const order = Array.from(s.keys()).sort((a, b) => s[a] - s[b] || a - b);
        const keep = new Float32Array(s.length).fill(1);
        for (const i of order.slice(0, Math.floor(o.sparsity * s.length))) keep[i] = 0;
        params.set(key.slice('magnitude:'.length), tf.tensor(keep, score.shape));
      }
      return { params };
    },
  }),
});

/** Feature distillation: weight · mean((student − teacher)²) on one tapped value. */
export const featureDistillation = definePlugin({
  name: 'feature-distillation',
  version: '0.1.0',
  apiVersion: '^1.0.0',
  description: 'L2 distance between a student feature and the same feature of a frozen teacher',
  options: z.object({ tap: z.string().min(1), weight: z.number().positive().default(1) }),
  requires: (o) => ({ taps: [o.tap], teacher: { taps: [o.tap] } }),
  hooks: (o) => ({
    loss: (ctx) => ({ l2: { value: tf.mean(tf.squaredDifference(ctx.student.taps[o.tap], ctx.teacher!.taps[o.tap])) as tf.Scalar, weight: o.weight } }),
  }),
});
