import { MODALITIES, STAGES, type TagSelector } from '@bevzip/ir';
import { z } from 'zod';

/** The three parameter groups AlterMOMA scores separately: camera backbone, LiDAR backbone, fusion + heads. */
export const GROUP_NAMES = ['camera', 'lidar', 'fusion'] as const;
export type GroupName = (typeof GROUP_NAMES)[number];

const oneOrMany = <T extends readonly [string, ...string[]]>(values: T) =>
  z.union([z.enum(values), z.array(z.enum(values)).min(1)]);

/** A tag selector as data: modality / stage / scope prefix, all given fields must match. */
export const tagSelectorSchema = z.strictObject({
  modality: oneOrMany(MODALITIES).optional(),
  stage: oneOrMany(STAGES).optional(),
  trainOnly: z.boolean().optional(),
  scope: z.string().min(1).optional(),
});

/**
 * Default groups: the whole camera encoder (backbone, neck and view transform; the paper leaves
 * open where the camera backbone ends, and masking all of it is what zeroes the camera BEV feature),
 * the LiDAR encoder, and everything tagged `fusion` (fuser, BEV decoder, heads).
 */
export const DEFAULT_GROUPS: Record<GroupName, TagSelector> = {
  camera: { modality: 'camera' },
  lidar: { modality: 'lidar' },
  fusion: { modality: ['fusion', 'shared'] },
};

const groupsSchema = z
  .strictObject({ camera: tagSelectorSchema, lidar: tagSelectorSchema, fusion: tagSelectorSchema })
  .partial()
  .default({})
  .transform((g) => ({ ...DEFAULT_GROUPS, ...g }) as Record<GroupName, TagSelector>);

/** Options every criterion shares: how much to prune, what may be pruned, the data used for scoring. */
export const pruningOptionsSchema = z.strictObject({
  /** Fraction ρ of prunable weights (or, structured, of prunable output channels) removed. */
  sparsity: z.number().min(0).max(1).default(0.8),
  /** Score and remove whole output channels instead of single weights. */
  structured: z.boolean().default(false),
  /** Tag selectors of the three groups; a param matching none is not pruned. */
  groups: groupsSchema,
  /** Biases (`role: 'bias'`) and norm affine params (`role: 'norm'`) are prunable only when asked. */
  prunable: z
    .strictObject({ biases: z.boolean().default(false), norms: z.boolean().default(false) })
    .default({ biases: false, norms: false }),
  /** Batches D whose gradients are summed for the first-order scores (stage batch indices 0…n−1). */
  scoringBatches: z.int().min(1).default(2),
  /** Batch norm during scoring: batch statistics ('train', as in the training loop) or running statistics. */
  scoringMode: z.enum(['train', 'eval']).default('train'),
  /** Structured only: channels each layer keeps whatever the scores say, so no layer vanishes. */
  minChannels: z.int().min(1).default(1),
  /**
   * Structured only: each layer keeps a multiple of this many channels (rounded to the nearest,
   * at least one), so the exported convs stay on the blocked kernels of the runtime; 1 turns it off.
   */
  channelMultiple: z.int().min(1).default(16),
  /**
   * Layer policy: the fraction of each pruned layer's units kept whatever the global threshold
   * says (its highest-scoring ones), so no layer is emptied. 0 leaves the threshold alone.
   */
  minDensity: z.number().min(0).max(1).default(0),
  /** Layer policy: params whose name starts with one of these prefixes are scored but kept whole. */
  keepDense: z.array(z.string().min(1)).default([]),
  /**
   * Prune in k rounds: round r keeps (1 − ρ)^(r/k) of the units and the next round rescores with
   * the masks so far applied. 1 is one-shot pruning.
   */
  rounds: z.int().min(1).default(1),
});

/** AlterMOMA: DeCI and ReRI, combined by AlterEva. */
export const alterMomaOptionsSchema = pruningOptionsSchema.extend({
  /** Weight of the normalized DeCI (paper: 1). */
  alpha: z.number().min(0).default(1),
  /**
   * Weight of the normalized ReRI; fusion weights get β/2 from each masking stage. The paper
   * subtracts it with β = 1; a negative β adds it (see the README for what was measured).
   */
  beta: z.number().default(-0.25),
  /**
   * How AlterEva's per-group L1-normalized score is scaled before the global threshold:
   * 'sum' as in the paper (every group gets the same total score, whatever its size),
   * 'mean' (× the group's unit count: each group's mean unit score is the same),
   * 'taylor' (× the group's Σ DeCI: with β = 0 the score is exactly |θ·∂L/∂θ|).
   */
  normalization: z.enum(['sum', 'mean', 'taylor']).default('taylor'),
  /** Redundancy-reactivation steps B per masked modality (the paper gives none). */
  reactivationSteps: z.int().min(1).default(8),
  /** Learning rate ε of reactivation (the paper gives none). */
  reactivationLr: z.number().positive().default(1e-4),
  /** Update rule of reactivation: plain gradient steps (the paper's derivation) or Adam (its training). */
  reactivationOptimizer: z.enum(['sgd', 'adam']).default('adam'),
  /**
   * Data of the second ReRI gradient: the scoring batches D (so G0 and GB differ only by the
   * reactivation) or the last reactivation batch D_B (the paper's literal reading).
   */
  reriData: z.enum(['scoring', 'last']).default('scoring'),
});

/** SynFlow: data-free iterative synaptic-flow scores (prunes in its own `iterations`). */
export const synflowOptionsSchema = pruningOptionsSchema.extend({
  /** Prune-and-rescore rounds, density following (1 − ρ)^(r/R) (the SynFlow paper: 100). */
  iterations: z.int().min(1).default(20),
});

export type PruningOptions = z.output<typeof pruningOptionsSchema>;
export type AlterMomaOptions = z.output<typeof alterMomaOptionsSchema>;
export type SynflowOptions = z.output<typeof synflowOptionsSchema>;
export type AlterMomaInput = z.input<typeof alterMomaOptionsSchema>;

/**
 * IMP: global magnitude pruning in k rounds with training between them. Each stage the plugin is
 * active in is one round (`impStages` splits a fine-tune stage into k); `rounds` here counts those
 * stages, not rescoring passes inside one stage as for the other criteria.
 */
export const impOptionsSchema = pruningOptionsSchema.extend({
  /** k: rounds, round r keeping (1 − ρ)^(r/k) of the units; the last keeps exactly N − round(ρN). */
  rounds: z.int().min(1).default(3),
  /**
   * Weights a round starts from after its pruning: 'none' keeps the trained weights (with a
   * restarted learning-rate schedule per round: learning-rate rewinding), 'start' rewinds the
   * survivors to the weights the first round started from (weight rewinding).
   */
  rewind: z.enum(['none', 'start']).default('none'),
});

/** Response distillation from the dense teacher's heads during the post-pruning fine-tune. */
export const headDistillOptionsSchema = z.strictObject({
  /** Output values of student and teacher compared, each holding logits of sigmoid heads. */
  outputs: z.array(z.string().min(1)).min(1).default(['heatmap']),
  /** Fixed weight of the term; ignored when `gradientShare` is given. */
  weight: z.number().min(0).default(1),
  /**
   * The term's share of the task loss's gradient norm, measured at each stage's first step (the
   * runtime turns it into the weight); suits a term whose natural scale is unrelated to the task loss.
   */
  gradientShare: z.number().positive().optional(),
});

export type ImpOptions = z.output<typeof impOptionsSchema>;
export type HeadDistillOptions = z.output<typeof headDistillOptionsSchema>;
