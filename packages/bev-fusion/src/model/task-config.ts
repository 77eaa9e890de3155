import type { DetectionClass } from '../data/types';
import { createTaskConfig, TINY_TASK_CONFIG, type TaskConfig } from '../task/config';
import { modelGeometry, type BevFusionConfig, type ModelModality } from './config';

/**
 * The task settings (feeds, targets, loss, decoding) that fit a model config: its classes, grid,
 * image and frustum sizes, pillar limits and the head stride of 2, with the remaining task settings
 * (targets, decoding, loss weights) taken from `base`. For `TINY_CONFIG` this is `TINY_TASK_CONFIG`.
 *
 * @example
 * const batch = makeBatch(frames, taskConfigFor(MICRO_CONFIG, 'fusion'));
 */
export function taskConfigFor(
  config: BevFusionConfig,
  modality: ModelModality,
  base: Readonly<TaskConfig> = TINY_TASK_CONFIG,
): TaskConfig {
  const g = modelGeometry(config);
  const [dmin, dmax, dstep] = config.camera.dbound;
  return createTaskConfig(
    {
      modality,
      classes: config.head.classes as readonly DetectionClass[],
      mapClasses: config.map.classes,
      grid: config.grid,
      headStride: 2,
      mapGrid: config.grid,
      camera: {
        ...base.camera,
        imageHeight: config.image[0],
        imageWidth: config.image[1],
        featureHeight: g.featH,
        featureWidth: g.featW,
        depth: { start: dmin, stop: dmax, step: dstep },
      },
      lidar: {
        ...base.lidar,
        maxPillars: config.lidar.maxPillars,
        maxPointsPerPillar: config.lidar.maxPoints,
      },
    },
    base,
  );
}
