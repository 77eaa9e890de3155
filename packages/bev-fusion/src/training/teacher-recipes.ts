import type { BuiltinCheckpoint } from './model-checkpoint';
import type { TrainModelOptions } from './train-options';

/** How one shipped teacher is trained: everything but `out` (and the progress callbacks). */
export type TeacherRecipe = Omit<TrainModelOptions, 'out' | 'observe' | 'log'> & { name: BuiltinCheckpoint };

const COMMON = {
  model: 'tiny',
  seed: 0,
  batchSize: 2,
  lr: 1e-3,
  weightDecay: 0.01,
  clipNorm: 35,
  // Fresh scenes at every step from a worker (scene 0 upwards, far below the validation range):
  // each teacher sees ≥ 4,000 distinct frames (two per step), so it cannot memorize a small fixed set.
  data: { dataSeed: 0, valScenes: 16, framesPerScene: 3, stream: true },
} as const satisfies Omit<TeacherRecipe, 'name' | 'steps'>;

/**
 * The recipes of the shipped `tiny` teachers (`teachers/train-teachers.js` runs them in this order):
 * the same data stream and seed for all. Steps differ because a camera-only step costs about two
 * thirds of a LiDAR step, and the budget is wall time (≈ 1 hour each on a free core). The fusion
 * model starts, as BEVFusion's does, from the single-sensor encoders: LiDAR branch, decoder and heads
 * from `tiny-lidar`, camera branch from `tiny-camera`, the fuser's camera half at zero so training
 * begins at the LiDAR model and can only add what the camera sees.
 */
export const TEACHER_RECIPES: readonly TeacherRecipe[] = [
  { ...COMMON, name: 'tiny-camera', modality: 'camera', steps: 5000, evalEvery: 1000 },
  { ...COMMON, name: 'tiny-lidar', modality: 'lidar', steps: 4000, evalEvery: 800 },
  {
    ...COMMON,
    name: 'tiny-fusion',
    modality: 'fusion',
    steps: 2000,
    evalEvery: 400,
    lr: 5e-4,
    fromBranches: { camera: 'builtin:tiny-camera', lidar: 'builtin:tiny-lidar' },
  },
];

/**
 * Not shipped: the control for the fusion recipe's warm start. A fusion model trained from random
 * weights on the same stream and seed, evaluated at the LiDAR recipe's evaluation steps (800, 1600,
 * 2400) so its curve and the LiDAR-only curve compare at equal steps. `train-teachers.js
 * tiny-fusion-scratch` trains it (into $BEVZIP_TEACHER_OUT or the work folder, never over the
 * shipped teachers).
 */
export const COMPARISON_RECIPES: readonly (Omit<TeacherRecipe, 'name'> & { name: string })[] = [
  { ...COMMON, name: 'tiny-fusion-scratch', modality: 'fusion', steps: 2400, evalEvery: 800 },
];
