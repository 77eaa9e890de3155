import * as tf from '@tensorflow/tfjs';
import { sizeOf } from '@bevzip/ir';
import type { UnitScores } from './altermoma';
import { hostValues, meanGradients, type Scorer } from './gradients';
import type { GroupPlan } from './groups';
import type { PruningOptions, SynflowOptions } from './options';
import { globalTopK, keepCount } from './threshold';
import { magnitudeUnits, products, taylorUnits, unitMaskShape } from './units';

/** Magnitude: |θ| per weight, or the L1 norm of each output channel. */
export function magnitudeScores(ctx: Scorer, plan: GroupPlan, structured: boolean): UnitScores {
  const theta = hostValues(
    ctx,
    plan.prunable.map((p) => p.name),
  );
  return new Map(plan.prunable.map((p) => [p.name, magnitudeUnits(theta.get(p.name)!, p.shape, structured)]));
}

/** SNIP: |θ·∂L/∂θ| of the unmasked model (a channel: |Σ θ·∂L/∂θ|, the gate's first-order term). */
export async function snipScores(
  ctx: Scorer,
  plan: GroupPlan,
  o: PruningOptions,
  masks?: ReadonlyMap<string, tf.Tensor>,
): Promise<UnitScores> {
  const names = plan.prunable.map((p) => p.name);
  const theta = hostValues(ctx, names);
  const scoring = Array.from({ length: o.scoringBatches }, (_, i) => i);
  const g = await meanGradients(ctx, names, scoring, { training: o.scoringMode === 'train', masks });
  return new Map(
    plan.prunable.map((p) => [
      p.name,
      taylorUnits(products(theta.get(p.name)!, g.get(p.name)!), p.shape, o.structured),
    ]),
  );
}

/** Sum of every output: SynFlow's objective R once weights are |θ| and float inputs are ones. */
const synapticFlow = (outputs: Record<string, tf.Tensor>) =>
  tf.addN(Object.values(outputs).map((t) => tf.sum(t))) as tf.Scalar;

/**
 * SynFlow (Tanaka et al. 2020), data free: every float param becomes |θ| (batch norm with running
 * statistics), float inputs are all ones (index inputs come from batch 0, as the model needs real
 * indices), R = Σ outputs, score |θ|·∂R/∂|θ|. Pruning is iterative: round r keeps the top
 * (1 − ρ)^(r/R) of the units, and scores are recomputed with the mask so far. Units pruned in a
 * round score −1, so a global threshold keeping (1 − ρ)·N returns the final survivors.
 */
export async function synflowScores(ctx: Scorer, plan: GroupPlan, o: SynflowOptions): Promise<UnitScores> {
  const names = plan.prunable.map((p) => p.name);
  const theta = hostValues(ctx, names);
  const transforms = new Map(
    ctx.graph.params.filter((p) => p.dtype === 'float32').map((p) => [p.name, (w: tf.Tensor) => tf.abs(w)]),
  );
  const total = plan.prunable.reduce(
    (n, p) => n + (o.structured ? p.shape[p.shape.length - 1] : sizeOf(p.shape)),
    0,
  );
  let keep: Map<string, Uint8Array> | undefined;
  let scores: UnitScores = new Map();
  for (let round = 1; round <= o.iterations; round++) {
    const masks = new Map(
      [...(keep ?? [])].map(([n, k]) => {
        const p = plan.prunable.find((q) => q.name === n)!;
        return [n, tf.tensor(Float32Array.from(k), unitMaskShape(p.shape, o.structured))] as [
          string,
          tf.Tensor,
        ];
      }),
    );
    try {
      const ones = (t: tf.Tensor) => (t.dtype === 'float32' ? tf.onesLike(t) : t.clone());
      const feedsOf = (batch: { feeds: Record<string, tf.Tensor> }) =>
        Object.fromEntries(Object.entries(batch.feeds).map(([k, t]) => [k, ones(t)]));
      const created: tf.Tensor[] = [];
      const g = await meanGradients(
        ctx,
        names,
        [0],
        { training: false, masks, weightTransforms: transforms },
        (outputs) => synapticFlow(outputs),
        (b) => {
          const f = feedsOf(b);
          created.push(...Object.values(f));
          return f;
        },
      );
      created.forEach((t) => t.dispose());
      // ∂R/∂θ = mask·sign(θ)·∂R/∂|θ|, so θ·∂R/∂θ is SynFlow's |θ|·∂R/∂|θ| (zero where masked).
      scores = new Map(
        plan.prunable.map((p) => [
          p.name,
          taylorUnits(products(theta.get(p.name)!, g.get(p.name)!), p.shape, o.structured),
        ]),
      );
    } finally {
      masks.forEach((m) => m.dispose());
    }
    const density = Math.pow(1 - o.sparsity, round / o.iterations);
    keep = globalTopK(
      scores,
      round === o.iterations ? keepCount(total, o.sparsity) : Math.round(density * total),
    );
  }
  for (const [n, s] of scores) {
    const k = keep!.get(n)!;
    for (let i = 0; i < s.length; i++) if (!k[i]) s[i] = -1;
  }
  return scores;
}
