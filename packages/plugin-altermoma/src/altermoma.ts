import type * as tf from '@tensorflow/tfjs';
import { hostValues, meanGradients, reactivate, snapshot, type Scorer } from './gradients';
import type { GroupPlan } from './groups';
import type { AlterMomaOptions, GroupName } from './options';
import { differenceProducts, products, taylorUnits } from './units';
import { l1Normalize } from './threshold';

/** Unit scores by param name. */
export type UnitScores = Map<string, Float32Array>;

/** What AlterEva combines: DeCI of every prunable param, and ReRI from each masking stage that ran. */
export interface AlterEvaInput {
  groupOf: ReadonlyMap<string, GroupName>;
  deci: UnitScores;
  /** ReRI of camera and fusion units, from the stage with the LiDAR backbone masked. */
  reriLidarMasked?: UnitScores;
  /** ReRI of LiDAR and fusion units, from the stage with the camera backbone masked. */
  reriCameraMasked?: UnitScores;
  alpha: number;
  beta: number;
  /** Scale of each group's normalized score (default 'sum', the paper's Eqs. 11–13). */
  normalization?: 'sum' | 'mean' | 'taylor';
}

function groupSums(
  scores: UnitScores | undefined,
  groupOf: ReadonlyMap<string, GroupName>,
  count = false,
): Record<GroupName, number> {
  const sums: Record<GroupName, number> = { camera: 0, lidar: 0, fusion: 0 };
  for (const [name, s] of scores ?? []) {
    const g = groupOf.get(name);
    if (g) for (const v of s) sums[g] += count ? 1 : v;
  }
  return sums;
}

/**
 * AlterEva (Eqs. 11–13): per group g, S = α·DeCI/ΣDeCI_g − β·ReRI/ΣReRI_g, with each sum over the
 * group's units only. Camera units take ReRI from the LiDAR-masked stage, LiDAR units from the
 * camera-masked stage, fusion units β/2 from each. A missing stage contributes nothing.
 *
 * The paper's sums give every group the same total score, so a small group's units outrank a
 * large group's under one global threshold. `normalization` rescales each group's S: by its unit
 * count ('mean') or by its Σ DeCI ('taylor', so β = 0 ranks exactly like |θ·∂L/∂θ| across groups).
 */
export function alterEva(input: AlterEvaInput): UnitScores {
  const { groupOf, deci, alpha, beta } = input;
  const deciSum = groupSums(deci, groupOf);
  const scale =
    input.normalization === 'mean'
      ? groupSums(deci, groupOf, true)
      : input.normalization === 'taylor'
        ? deciSum
        : { camera: 1, lidar: 1, fusion: 1 };
  const stages = [
    { reri: input.reriLidarMasked, own: 'camera' as GroupName },
    { reri: input.reriCameraMasked, own: 'lidar' as GroupName },
  ].map((s) => ({ ...s, sums: groupSums(s.reri, groupOf) }));
  const out: UnitScores = new Map();
  for (const [name, d] of deci) {
    const g = groupOf.get(name)!;
    const score = l1Normalize(d, deciSum[g]).map((v) => alpha * v);
    for (const { reri, own, sums } of stages) {
      const r = reri?.get(name);
      if (!r || (g !== own && g !== 'fusion')) continue;
      const weight = g === 'fusion' ? beta / 2 : beta;
      const normed = l1Normalize(r, sums[g]);
      for (let i = 0; i < score.length; i++) score[i] -= weight * normed[i];
    }
    if (scale[g] !== 1) for (let i = 0; i < score.length; i++) score[i] *= scale[g];
    out.set(name, score);
  }
  return out;
}

/**
 * AlterMOMA's scores for the prunable params: DeCI from the unmasked model, then for each modality
 * (LiDAR first) masking, reactivation, ReRI and reinitialisation, combined by {@link alterEva}.
 * Weights are exactly as before when it returns.
 */
export async function alterMomaScores(
  ctx: Scorer,
  plan: GroupPlan,
  o: AlterMomaOptions,
  structured: boolean,
  masks?: ReadonlyMap<string, tf.Tensor>,
): Promise<UnitScores> {
  const names = plan.prunable.map((p) => p.name);
  const shapes = new Map(plan.prunable.map((p) => [p.name, p.shape]));
  const theta = hostValues(ctx, names);
  const scoring = Array.from({ length: o.scoringBatches }, (_, i) => i);
  const reactivation = Array.from({ length: o.reactivationSteps }, (_, i) => o.scoringBatches + i);
  const training = o.scoringMode === 'train';
  const units = (name: string, terms: Float32Array) => taylorUnits(terms, shapes.get(name)!, structured);

  const full = await meanGradients(ctx, names, scoring, { training, masks });
  const deci: UnitScores = new Map(names.map((n) => [n, units(n, products(theta.get(n)!, full.get(n)!))]));

  const stage = async (masked: GroupName, other: GroupName): Promise<UnitScores | undefined> => {
    if (plan.members[masked].length === 0 || plan.members[other].length === 0) {
      ctx.warn(
        `altermoma: the ${masked} group is ${plan.members[masked].length === 0 ? 'empty' : 'the only modality'}; the stage masking it is skipped`,
      );
      return undefined;
    }
    const scored = names.filter((n) => plan.groupOf.get(n) === other || plan.groupOf.get(n) === 'fusion');
    const zeroed = plan.members[masked];
    const g0 = await meanGradients(ctx, scored, scoring, { training, zeroed, masks });
    const saved = snapshot(ctx);
    let gB: Map<string, Float32Array>;
    try {
      await reactivate(ctx, zeroed, reactivation, {
        lr: o.reactivationLr,
        kind: o.reactivationOptimizer,
        training,
        masks,
      });
      gB = await meanGradients(ctx, scored, o.reriData === 'scoring' ? scoring : reactivation.slice(-1), {
        training,
        zeroed,
        masks,
      });
    } finally {
      saved.restore();
    }
    return new Map(
      scored.map((n) => [n, units(n, differenceProducts(theta.get(n)!, g0.get(n)!, gB.get(n)!))]),
    );
  };
  const reriLidarMasked = await stage('lidar', 'camera');
  const reriCameraMasked = await stage('camera', 'lidar');
  return alterEva({
    groupOf: plan.groupOf,
    deci,
    reriLidarMasked,
    reriCameraMasked,
    alpha: o.alpha,
    beta: o.beta,
    normalization: o.normalization,
  });
}
