import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES, sizeOf, type PluginHooks, type StageConfig, type StageContext } from '@bevzip/ir';
import type { UnitScores } from './altermoma';
import { planGroups } from './groups';
import type { ImpOptions } from './options';
import { dropPruned, forcedUnits } from './policy';
import { channelLayers, channelMasks, type ChannelLayer } from './structured';
import { globalTopK, keepCount } from './threshold';
import { magnitudeUnits, unitMaskShape } from './units';

/** Densities d_r = (1 − ρ)^(r/k) of rounds r = 1…k (the last is exactly 1 − ρ). */
export function impDensities(sparsity: number, rounds: number): number[] {
  return Array.from({ length: rounds }, (_, i) => (i === rounds - 1 ? 1 - sparsity : Math.pow(1 - sparsity, (i + 1) / rounds)));
}

/** Units kept after round r (1-based) of k out of n: round(d_r·n), never below the final N − round(ρN), which the last round keeps exactly. */
export function impKeepCount(n: number, sparsity: number, round: number, rounds: number): number {
  const final = keepCount(n, sparsity);
  return round >= rounds ? final : Math.max(Math.round(impDensities(sparsity, rounds)[round - 1] * n), final);
}

/**
 * Splits one fine-tune stage into the k stages of IMP's rounds with the same total steps (the
 * first `steps mod k` rounds get one step more). Each round restarts the stage's schedule over its
 * own steps (a cosine decays to its floor within every round: learning-rate rewinding) and reads the
 * batches the unsplit stage would have read at those steps, so IMP sees the same data as a
 * one-shot criterion fine-tuned by `stage`.
 */
export function impStages(stage: StageConfig, rounds: number): StageConfig[] {
  if (!(Number.isInteger(rounds) && rounds >= 1))
    throw new BevzipError(ERROR_CODES.CONFIG, `impStages: rounds must be an integer ≥ 1, got ${rounds}`);
  if (stage.steps < rounds)
    throw new BevzipError(ERROR_CODES.CONFIG, `impStages: stage '${stage.name}' has ${stage.steps} steps, fewer than the ${rounds} rounds (each round needs at least one fine-tune step)`);
  const out: StageConfig[] = [];
  let offset = 0;
  for (let r = 0; r < rounds; r++) {
    const steps = Math.floor(stage.steps / rounds) + (r < stage.steps % rounds ? 1 : 0);
    const from = offset;
    const schedule = stage.schedule?.kind === 'cosine' ? { ...stage.schedule, totalSteps: steps } : stage.schedule;
    out.push({
      ...stage,
      name: `${stage.name}-r${r + 1}`,
      steps,
      schedule,
      data: { batch: (step, ctx) => stage.data.batch(from + step, ctx) },
    });
    offset += steps;
  }
  return out;
}

/**
 * Iterative magnitude pruning (Frankle & Carbin 2019; Renda et al. 2020): every stage the plugin is
 * active in is one round. At the stage's start (`transform`, before any plugin scores) the units
 * still kept are ranked by |θ| of the trained weights (structured: a channel's L1 norm) and the
 * global threshold keeps impKeepCount of them; with `rewind: 'start'` the survivors then go back to
 * the weights the first round started from (pruned ones to exactly zero). `mask` applies the round's
 * mask at step 0; the stage then fine-tunes. Stages after the k-th only fine-tune.
 */
export function impHooks(name: string, o: ImpOptions): PluginHooks<ImpOptions> {
  const prefix = `${name}:`;
  let round = 0;
  let keep: Map<string, Uint8Array> | undefined;
  let theta0: Map<string, tf.Tensor> | undefined;
  let pending: { scores: UnitScores; shapes: Map<string, number[]> } | undefined;
  let layers: ChannelLayer[] = [];

  const maskTensors = (ctx: Pick<StageContext, 'graph'>, shapes: ReadonlyMap<string, number[]>, k: ReadonlyMap<string, Uint8Array>) =>
    o.structured
      ? channelMasks(ctx.graph, layers, k)
      : new Map([...k].map(([n, v]) => [n, tf.tensor(Float32Array.from(v), unitMaskShape(shapes.get(n)!, false))]));

  const releaseTheta0 = () => {
    theta0?.forEach((t) => t.dispose());
    theta0 = undefined;
  };

  return {
    setup: (ctx) => {
      if (o.sparsity >= 0.99) ctx.warn(`${name}: options.sparsity is ${o.sparsity}: that removes almost every prunable weight of the model`);
    },
    transform: (_graph, ctx) => {
      pending = undefined;
      if (round >= o.rounds) return;
      const plan = planGroups(ctx.graph, o);
      if (o.structured) {
        const found = channelLayers(ctx.graph, ctx.params, plan.prunable);
        if (round === 0 && found.skipped.length > 0)
          ctx.warn(`${name}: ${found.skipped.length} params have no removable output channels and are not pruned: ${found.skipped.join(', ')}`);
        layers = found.layers;
        const removable = new Set(layers.map((l) => l.weight));
        plan.prunable = plan.prunable.filter((p) => removable.has(p.name));
      }
      if (round === 0 && o.rewind === 'start')
        theta0 = new Map(ctx.graph.params.filter((p) => p.dtype === 'float32').map((p) => [p.name, tf.keep(ctx.params.get(p.name).clone())]));
      const shapes = new Map(plan.prunable.map((p) => [p.name, [...p.shape]]));
      const scores: UnitScores = new Map(
        plan.prunable.map((p) => [p.name, magnitudeUnits(ctx.params.get(p.name).dataSync() as Float32Array, p.shape, o.structured)]),
      );
      dropPruned(scores, keep);
      const total = plan.prunable.reduce((n, p) => n + (o.structured ? p.shape[p.shape.length - 1] : sizeOf(p.shape)), 0);
      round++;
      keep = globalTopK(scores, impKeepCount(total, o.sparsity, round, o.rounds), forcedUnits(scores, o));
      if (round > 1 && theta0) {
        // Survivors back to their starting values, pruned units to zero before the first forward.
        const masks = maskTensors(ctx, shapes, keep);
        try {
          for (const [param, start] of theta0) {
            const m = masks.get(param);
            const value = m ? tf.mul(start, m) : start;
            ctx.params.set(param, value);
            if (m) value.dispose();
          }
        } finally {
          masks.forEach((m) => m.dispose());
        }
      }
      pending = { scores, shapes };
    },
    score: () => {
      if (!pending) return;
      const { scores, shapes } = pending;
      return Object.fromEntries([...scores].map(([param, s]) => [prefix + param, tf.tensor(s, o.structured ? [s.length] : shapes.get(param)!)]));
    },
    mask: (_held, ctx) => {
      if (ctx.step !== 0 || !pending || !keep) return;
      const update = maskTensors(ctx, pending.shapes, keep);
      pending = undefined;
      return { params: update };
    },
    finalize: (ctx) => {
      releaseTheta0();
      if (ctx.completed && round < o.rounds)
        ctx.warn(`${name}: the run ended after ${round} of ${o.rounds} rounds, so the masks are at density ${impDensities(o.sparsity, o.rounds)[round - 1]?.toFixed(4) ?? 1}, not ${(1 - o.sparsity).toFixed(4)}; give the plugin one stage per round (impStages)`);
    },
    state: {
      save: () => ({
        json: { round, keep: keep ? [...keep] : null },
        tensors: theta0,
      }),
      restore: ({ json, tensors }) => {
        const saved = json as { round: number; keep: [string, Uint8Array][] | null };
        round = saved.round;
        keep = saved.keep ? new Map(saved.keep) : undefined;
        releaseTheta0();
        if (tensors.size > 0) theta0 = new Map([...tensors].map(([n, t]) => [n, tf.keep(t.clone())]));
      },
    },
  };
}
