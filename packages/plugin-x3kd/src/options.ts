import { z } from 'zod';

const tap = z.string().min(1);
const weight = z.number().min(0);

/** X-IS: an instance-segmentation head on the perspective-view image features. */
const isOptions = z.strictObject({
  enabled: z.boolean().default(true),
  /** λ_IS. */
  weight: weight.default(1),
  /** Hidden channels of the train-only IS head. */
  channels: z.number().int().positive().default(32),
  /** Weight of the centre-offset term against the class-mask term inside X-IS. */
  offsetWeight: weight.default(0.1),
  /** Boxes whose projected corners lie this close to the camera plane (m) or behind it are skipped. */
  minDepth: z.number().positive().default(0.2),
});

/** X-FD: a train-only BEV decoder predicts the teacher's activation map from the student BEV. */
const fdOptions = z.strictObject({
  enabled: z.boolean().default(true),
  /** λ_FD. */
  weight: weight.default(1),
  channels: z.number().int().positive().default(32),
  /** How the teacher BEV becomes one activation per cell (the paper's definition is not known). */
  activation: z.enum(['mean-abs', 'max-abs', 'l2']).default('mean-abs'),
  /** Divide each sample's activation map by its maximum, so the target lies in [0, 1]. */
  normalize: z.boolean().default(true),
});

/** X-AT: a train-only discriminator behind a gradient-reversal op tells LiDAR from camera BEV. */
const atOptions = z.strictObject({
  enabled: z.boolean().default(true),
  /** λ_AT. */
  weight: weight.default(0.1),
  /** λ of the gradient reversal (with `lambdaSchedule: 'dann'`, the value the ramp approaches): the student receives −λ times the discriminator's gradient. */
  grlLambda: z.number().min(0).default(1),
  /**
   * How λ follows the stage's progress p = step / steps: 'constant' (grlLambda throughout) or 'dann'
   * (grlLambda·(2/(1 + exp(−γ·p)) − 1), 0 at the first step), so the fresh discriminator's early,
   * uninformative gradients do not reach the student's BEV features at full strength.
   */
  lambdaSchedule: z.enum(['constant', 'dann']).default('dann'),
  /** γ of the 'dann' ramp. */
  gamma: z.number().positive().default(10),
  channels: z.number().int().positive().default(32),
  /** One logit per BEV patch (stride 2) or one per map (mean of the patch logits). */
  output: z.enum(['patch', 'global']).default('patch'),
});

/** X-OD: dense output distillation from the LiDAR teacher's heads. */
const odOptions = z.strictObject({
  enabled: z.boolean().default(true),
  /** λ_OD. */
  weight: weight.default(1),
  /** 'pseudo-labels': teacher peaks with score > τ re-rendered as CenterPoint Gaussians; 'soft': the teacher's sigmoid heat map as it is. */
  heatmapTarget: z.enum(['pseudo-labels', 'soft']).default('pseudo-labels'),
  /** τ: the confidence above which a teacher peak becomes a pseudo-label. */
  threshold: z.number().min(0).max(1).default(0.3),
  /** Gaussian radius (head cells) of a rendered pseudo-label. */
  radius: z.number().int().min(0).default(1),
  /** Weight each pseudo-box's Smooth-L1 term by its teacher score (else 1). */
  confidenceWeighted: z.boolean().default(true),
  /** Smooth-L1 β. */
  beta: z.number().positive().default(1 / 9),
  /** Weight of the box term against the heat-map term inside X-OD. */
  boxWeight: weight.default(0.25),
});

/** Options of {@link x3kd}. */
export const x3kdOptions = z.strictObject({
  /** Student perspective-view features [B·N_cam, h, w, C] (image neck output) for X-IS. */
  imageTap: tap.default('encoders.camera.neck.out.relu'),
  /** Student BEV feature [B, X, Y, C] for X-FD and X-AT (the BEV-encoder output by default). */
  studentBevTap: tap.default('decoder.neck.concat'),
  /** Teacher BEV feature at the matching stage, same channels as the student's for X-AT. */
  teacherBevTap: tap.default('decoder.neck.concat'),
  /** A value only a teacher with a LiDAR branch has: requiring it refuses a camera-only teacher before training. */
  teacherLidarTap: tap.default('encoders.lidar.backbone.scatter'),
  /** Heat-map logits [B, Hh, Wh, K] and box regression [B, Hh, Wh, R] outputs, on student and teacher. */
  heatmap: tap.default('heatmap'),
  reg: tap.default('reg'),
  is: isOptions.prefault({}),
  fd: fdOptions.prefault({}),
  at: atOptions.prefault({}),
  od: odOptions.prefault({}),
});
export type X3kdInput = z.input<typeof x3kdOptions>;
export type X3kdOptions = z.output<typeof x3kdOptions>;
