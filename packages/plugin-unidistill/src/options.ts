import { z } from 'zod';

/** The four teacher → student paths of UniDistill. */
export const SETTINGS = ['lidar->camera', 'fusion->camera', 'camera->lidar', 'fusion->lidar'] as const;
export type Setting = (typeof SETTINGS)[number];
export type Modality = 'camera' | 'lidar' | 'fusion';

/** λ_f / λ_r / λ_p of the official code per path. */
export const DEFAULT_WEIGHTS: Record<Setting, { feature: number; relation: number; response: number }> = {
  'lidar->camera': { feature: 100, relation: 40, response: 10 },
  'fusion->camera': { feature: 10, relation: 5, response: 10 },
  'camera->lidar': { feature: 10, relation: 5, response: 1 },
  'fusion->lidar': { feature: 10, relation: 1, response: 10 },
};

/** Low-level BEV (before the BEV encoder) of a bev-fusion model of each modality. */
export const LOW_LEVEL_TAPS: Record<Modality, string> = {
  camera: 'encoders.camera.vtransform.bev_pool',
  lidar: 'encoders.lidar.backbone.scatter',
  fusion: 'fuser.relu',
};

export function settingModalities(s: Setting): { teacher: Modality; student: Modality } {
  const [teacher, student] = s.split('->') as [Modality, Modality];
  return { teacher, student };
}

const tap = z.string().min(1);
const weight = z.number().min(0);

const term = z.strictObject({
  enabled: z.boolean().default(true),
  /** Default: the setting's weight from the official code. */
  weight: weight.optional(),
  /**
   * Instead of `weight`: the runtime sets the weight at each stage's first step so this term's
   * gradient is this fraction of the task loss's (`LossTerm.gradientShare`). The official weights
   * were tuned for BEVFusion-scale features; on other models a term can swamp the task loss
   * (λ_f = 100 on the tiny camera student) or vanish, and a share says what is meant.
   */
  gradientShare: z.number().positive().max(10).optional(),
});

const responseTerm = term.extend({
  /** The code divides the teacher's logits by 2 before the sigmoid (not the student's). */
  teacherTemperature: z.number().positive().default(2),
  /** Overlap of the CenterPoint radius formula for the Gaussian mask around each box centre. */
  gaussianOverlap: z.number().gt(0).lt(1).default(0.7),
  /** Smallest Gaussian radius (head cells). */
  minRadius: z.number().int().min(0).default(0),
});

/** Options of {@link unidistill}. */
export const unidistillOptions = z.strictObject({
  setting: z.enum(SETTINGS).default('lidar->camera'),
  /** Low-level BEV of the student / teacher. Default: by modality (camera view transform, LiDAR scatter, fuser). */
  studentLowTap: tap.optional(),
  teacherLowTap: tap.optional(),
  /** High-level BEV (the BEV-encoder output, the heads' input) of student and teacher. */
  studentHighTap: tap.default('decoder.neck.concat'),
  teacherHighTap: tap.default('decoder.neck.concat'),
  /** Heat-map logits [B, H, W, K] and box regression [B, H, W, R], same shapes on student and teacher. */
  heatmap: tap.default('heatmap'),
  reg: tap.default('reg'),
  feature: term.prefault({}),
  relation: term.prefault({}),
  response: responseTerm.prefault({}),
  /**
   * Train-only 1×1 convs on the student's low- and high-level BEV before the feature and relation
   * losses (the paper has them, the released code does not). 'identity' starts them as the identity
   * on the shared channels, so step 0 equals the adapter-free loss; 'normal' draws N(0, 0.01²).
   */
  adapters: z
    .strictObject({
      enabled: z.boolean().default(true),
      init: z.enum(['identity', 'normal']).default('identity'),
    })
    .prefault({}),
});
export type UnidistillInput = z.input<typeof unidistillOptions>;
export type UnidistillOptions = z.output<typeof unidistillOptions>;

/** The options with every default that depends on the setting filled in. */
export interface ResolvedOptions extends UnidistillOptions {
  studentLowTap: string;
  teacherLowTap: string;
  weights: { feature: number; relation: number; response: number };
  modalities: { teacher: Modality; student: Modality };
}

export function resolveOptions(o: UnidistillOptions): ResolvedOptions {
  const modalities = settingModalities(o.setting);
  const d = DEFAULT_WEIGHTS[o.setting];
  return {
    ...o,
    modalities,
    studentLowTap: o.studentLowTap ?? LOW_LEVEL_TAPS[modalities.student],
    teacherLowTap: o.teacherLowTap ?? LOW_LEVEL_TAPS[modalities.teacher],
    weights: { feature: o.feature.weight ?? d.feature, relation: o.relation.weight ?? d.relation, response: o.response.weight ?? d.response },
  };
}
