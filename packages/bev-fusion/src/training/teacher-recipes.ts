import type { BuiltinCheckpoint } from './model-checkpoint';
import type { TrainModelOptions } from './train-options';

/** How one shipped teacher is trained: everything but `out` (and the progress callbacks). */
export type TeacherRecipe = Omit<TrainModelOptions, 'out' | 'observe' | 'log'> & { name: BuiltinCheckpoint };

const COMMON = {
  model: 'tiny',
  steps: 600,
  seed: 0,
  batchSize: 2,
  lr: 1e-3,
  weightDecay: 0.01,
  clipNorm: 35,
  data: { dataSeed: 0, trainScenes: 120, valScenes: 16, framesPerScene: 3 },
  evalEvery: 200,
} as const satisfies Omit<TeacherRecipe, 'name'>;

/**
 * The recipes of the shipped `tiny` teachers (`teachers/train-teachers.js` runs them in this order):
 * the same data and seed for all. Steps differ because a camera-only step costs about a fifth of a
 * LiDAR step, and the budget is wall time (≈ 12 minutes each on a free core). The fusion model
 * starts, as BEVFusion's does, from the single-sensor encoders: LiDAR branch, decoder and heads from
 * `tiny-lidar`, camera branch from `tiny-camera`, the fuser's camera half at zero so training begins
 * at the LiDAR model and can only add what the camera sees.
 */
export const TEACHER_RECIPES: readonly TeacherRecipe[] = [
  { ...COMMON, name: 'tiny-camera', modality: 'camera', steps: 2400, evalEvery: 600 },
  { ...COMMON, name: 'tiny-lidar', modality: 'lidar' },
  {
    ...COMMON,
    name: 'tiny-fusion',
    modality: 'fusion',
    steps: 400,
    lr: 5e-4,
    fromBranches: { camera: 'builtin:tiny-camera', lidar: 'builtin:tiny-lidar' },
  },
];
