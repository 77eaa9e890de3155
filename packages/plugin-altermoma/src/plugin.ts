import * as tf from '@tensorflow/tfjs';
import { BevzipError, definePlugin, ERROR_CODES, sizeOf, type PluginHooks, type ScoreContext } from '@bevzip/ir';
import type { z } from 'zod';
import { alterMomaScores, type UnitScores } from './altermoma';
import { magnitudeScores, snipScores, synflowScores } from './baselines';
import { planGroups, type GroupPlan } from './groups';
import { headDistillHooks } from './distill';
import { impHooks } from './imp';
import {
  alterMomaOptionsSchema,
  headDistillOptionsSchema,
  impOptionsSchema,
  pruningOptionsSchema,
  synflowOptionsSchema,
  type PruningOptions,
} from './options';
import { channelLayers, channelMasks, removePrunedChannels, type ChannelLayer } from './structured';
import { dropPruned, forcedUnits, roundKeptChannels } from './policy';
import { globalTopK, keepCount } from './threshold';
import { unitMaskShape } from './units';

/** Scores the prunable units; `masks` (iterative rounds) multiply the params while scoring. */
type Criterion<O> = (
  ctx: ScoreContext<O>,
  plan: GroupPlan,
  masks?: ReadonlyMap<string, tf.Tensor>,
) => UnitScores | Promise<UnitScores>;

/**
 * The hooks every criterion shares. `score` resolves the groups (and, structured, the removable
 * channel layers) and returns one unit-score tensor per prunable param, keyed `<plugin>:<param>`;
 * `mask`, at the first step of the stage, keeps exactly (1 − ρ)·N units under one global threshold.
 * The runtime holds the masks from then on, re-applying them after every optimizer step.
 */
function pruningHooks<O extends PruningOptions>(name: string, o: O, criterion: Criterion<O>): PluginHooks<O> {
  const prefix = `${name}:`;
  let layers: ChannelLayer[] = [];
  return {
    setup: (ctx) => {
      // Every layer keeping ⌈minDensity·n⌉ units forces at least (1 − ρ)·N units when
      // minDensity ≥ 1 − ρ: the global threshold would have nothing left to choose.
      if (o.minDensity > 0 && o.minDensity >= 1 - o.sparsity - 1e-12)
        throw new BevzipError(
          ERROR_CODES.CONFIG,
          `${name}: options.minDensity is ${o.minDensity}, expected below 1 − sparsity = ${+(1 - o.sparsity).toFixed(6)} (every layer would keep at least the share the whole model keeps, leaving the threshold nothing to choose)`,
        );
      // Valid, but almost certainly a slip: the pruned model would output its biases only.
      if (o.sparsity >= 0.99) ctx.warn(`${name}: options.sparsity is ${o.sparsity}: that removes ${o.sparsity === 1 ? 'every' : `${(o.sparsity * 100).toFixed(1)}% of the`} prunable weight${o.structured ? ' channels' : 's'} of the model`);
    },
    score: async (ctx) => {
      const plan = planGroups(ctx.graph, o);
      if (o.structured) {
        const found = channelLayers(ctx.graph, ctx.params, plan.prunable);
        if (found.skipped.length > 0)
          ctx.warn(
            `${name}: ${found.skipped.length} params have no removable output channels and are not pruned: ${found.skipped.join(', ')}`,
          );
        layers = found.layers;
        const removable = new Set(layers.map((l) => l.weight));
        plan.prunable = plan.prunable.filter((p) => removable.has(p.name));
      }
      const shapes = new Map(plan.prunable.map((p) => [p.name, p.shape]));
      const rounds = o.rounds;
      const total = plan.prunable.reduce((n, p) => n + (o.structured ? p.shape[p.shape.length - 1] : sizeOf(p.shape)), 0);
      let keep: Map<string, Uint8Array> | undefined;
      let scores: UnitScores = new Map();
      // Round r keeps (1 − ρ)^(r/k); the last round's survivors are exactly what `mask` keeps.
      for (let round = 1; round <= rounds; round++) {
        const masks = keep && (o.structured
          ? channelMasks(ctx.graph, layers, keep)
          : new Map([...keep].map(([n, k]) => [n, tf.tensor(Float32Array.from(k), unitMaskShape(shapes.get(n)!, false))])));
        try {
          scores = await criterion(ctx, plan, masks);
        } finally {
          masks?.forEach((m) => m.dispose());
        }
        dropPruned(scores, keep);
        if (round === rounds) break;
        const density = Math.pow(1 - o.sparsity, round / rounds);
        keep = globalTopK(scores, Math.max(Math.round(density * total), keepCount(total, o.sparsity)), forcedUnits(scores, o));
      }
      return Object.fromEntries(
        [...scores].map(([param, s]) => [
          prefix + param,
          tf.tensor(s, o.structured ? [s.length] : shapes.get(param)!),
        ]),
      );
    },
    mask: (_held, ctx) => {
      if (ctx.step !== 0) return;
      const scores = new Map<string, Float32Array>();
      for (const [key, t] of ctx.scores)
        if (key.startsWith(prefix)) scores.set(key.slice(prefix.length), t.dataSync() as Float32Array);
      if (scores.size === 0) return;
      const total = [...scores.values()].reduce((n, s) => n + s.length, 0);
      const forced = forcedUnits(scores, o);
      const keep = globalTopK(scores, keepCount(total, o.sparsity), forced);
      if (o.structured) return { params: channelMasks(ctx.graph, layers, roundKeptChannels(keep, scores, o.channelMultiple, forced)) };
      const params = new Map<string, tf.Tensor>();
      for (const [param, k] of keep)
        params.set(
          param,
          tf.tensor(Float32Array.from(k), ctx.graph.params.find((p) => p.name === param)!.shape),
        );
      return { params };
    },
    export: (artifact, ctx) => {
      const mine = [...ctx.masks.params.keys()].filter((n) => artifact.graph.params.some((p) => p.name === n && p.role === 'weight'));
      if (o.structured) {
        const before = new Map(artifact.graph.params.map((p) => [p.name, p.shape[p.shape.length - 1]]));
        const removed = removePrunedChannels(artifact.graph, artifact.params, ctx.masks);
        let from = 0;
        let gone = 0;
        let layers = 0;
        for (const [weight, kept] of removed.plan.kept) {
          if (!ctx.masks.params.has(weight)) continue;
          layers++;
          from += before.get(weight) ?? kept.length;
          gone += (before.get(weight) ?? kept.length) - kept.length;
        }
        const pinned = removed.plan.pinned.length ? `; ${removed.plan.pinned.length} layer(s) kept all channels because they reach an output or an op that cannot drop channels` : '';
        return {
          graph: removed.graph,
          params: removed.params,
          report: { summary: `structured: removed ${gone} of ${from} output channels in ${layers} pruned layers${pinned}`, data: { removedChannels: gone, channels: from, pinned: removed.plan.pinned } },
        };
      }
      let size = 0;
      let zeros = 0;
      for (const name of mine) {
        const v = artifact.params.get(name).dataSync();
        size += v.length;
        for (let i = 0; i < v.length; i++) if (v[i] === 0) zeros++;
      }
      if (size === 0) return;
      const pct = ((100 * zeros) / size).toFixed(1);
      return {
        report: {
          summary: `unstructured: ${pct}% of the weights of ${mine.length} pruned layers are zero; ONNX stores them densely, so the file is not smaller and dense kernels are not faster`,
          data: { zeros, size, layers: mine.length },
        },
      };
    },
  };
}

const meta = { version: '0.1.0', apiVersion: '^1.0.0' } as const;

/**
 * AlterMOMA (Sun et al., NeurIPS 2024): alternately masks the camera and the LiDAR encoder,
 * reactivates the redundant features of the other one with a few training steps, and scores every
 * weight (or output channel) by AlterEva = α·DeCI − β·ReRI, normalized per group; one global
 * threshold keeps (1 − ρ)·N.
 *
 * @example
 * const pipeline = new Pipeline({ seed, graph, params, stages: [{ name: 'prune', steps: 300, data, taskLoss }] });
 * pipeline.use(alterMoma({ sparsity: 0.8 }));
 */
export const alterMoma = definePlugin({
  name: 'altermoma',
  ...meta,
  description: 'AlterMOMA modality-masking pruning (unstructured or by output channel)',
  options: alterMomaOptionsSchema,
  hooks: (o) =>
    pruningHooks('altermoma', o, (ctx, plan, masks) => alterMomaScores(ctx, plan, o, o.structured, masks)),
});

/** Baseline: global magnitude pruning (|θ|, or a channel's L1 norm). */
export const magnitudePrune = definePlugin({
  name: 'prune-magnitude',
  ...meta,
  description: 'Global magnitude pruning through the same threshold as AlterMOMA',
  options: pruningOptionsSchema,
  hooks: (o) => pruningHooks('prune-magnitude', o, (ctx, plan) => magnitudeScores(ctx, plan, o.structured)),
});

/** Baseline: SNIP (|θ·∂L/∂θ| of the unmasked model). */
export const snipPrune = definePlugin({
  name: 'prune-snip',
  ...meta,
  description: 'SNIP connection sensitivity through the same threshold as AlterMOMA',
  options: pruningOptionsSchema,
  hooks: (o) => pruningHooks('prune-snip', o, (ctx, plan, masks) => snipScores(ctx, plan, o, masks)),
});

/** Baseline: iterative SynFlow (data free). */
export const synflowPrune = definePlugin({
  name: 'prune-synflow',
  ...meta,
  description: 'Iterative SynFlow through the same threshold as AlterMOMA',
  options: synflowOptionsSchema,
  hooks: (o) => pruningHooks('prune-synflow', o, (ctx, plan) => synflowScores(ctx, plan, o)),
});

/**
 * Baseline: iterative magnitude pruning (Frankle & Carbin 2019, with Renda et al. 2020's rewinding
 * choices), one round per stage it is active in; split a fine-tune stage with `impStages`.
 *
 * @example
 * const stages = impStages({ name: 'finetune', steps: 300, data, taskLoss }, 3);
 * new Pipeline({ seed, graph, params, stages }).use(impPrune({ sparsity: 0.8, rounds: 3 }));
 */
export const impPrune = definePlugin({
  name: 'prune-imp',
  ...meta,
  description: 'Iterative magnitude pruning with fine-tuning between rounds, through the same threshold as AlterMOMA',
  options: impOptionsSchema,
  hooks: (o) => impHooks('prune-imp', o),
});

/**
 * Response distillation from the stage's frozen (dense) teacher during the fine-tune after pruning:
 * mean squared difference of the sigmoid outputs of the named heads.
 *
 * @example
 * stages[0].teacher = { graph: dense.graph, params: dense.params };
 * pipeline.use(alterMoma({ sparsity: 0.8 })).use(headDistill({ outputs: ['heatmap'], gradientShare: 0.5 }));
 */
export const headDistill = definePlugin({
  name: 'prune-kd',
  ...meta,
  description: 'Sigmoid-head response distillation from the dense teacher while fine-tuning a pruned model',
  options: headDistillOptionsSchema,
  requires: (o) => ({ teacher: { taps: o.outputs } }),
  hooks: (o) => headDistillHooks('prune-kd', o),
});

/** Every criterion of the package by short name, for benchmarks and the command line. */
export const PRUNING_CRITERIA = {
  altermoma: alterMoma,
  magnitude: magnitudePrune,
  snip: snipPrune,
  synflow: synflowPrune,
  imp: impPrune,
} as const;
export type CriterionName = keyof typeof PRUNING_CRITERIA;

/** Options a criterion accepts (the AlterMOMA and SynFlow extras are ignored by the others' schemas only if absent). */
export type CriterionOptions<C extends CriterionName> = z.input<
  (typeof PRUNING_CRITERIA)[C]['definition']['options']
>;
