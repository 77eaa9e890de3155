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
 * The recipes of the shipped `tiny` teachers (`teachers/train-teachers.js` runs them): the same
 * data, seed and schedule for all three, so their validation metrics compare the sensors alone.
 */
export const TEACHER_RECIPES: readonly TeacherRecipe[] = [
  { ...COMMON, name: 'tiny-fusion', modality: 'fusion' },
  { ...COMMON, name: 'tiny-lidar', modality: 'lidar' },
  { ...COMMON, name: 'tiny-camera', modality: 'camera' },
];
