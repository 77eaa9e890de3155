import { BevzipError, ERROR_CODES } from '@bevzip/ir';
import type { DetectionClass } from '@bevzip/driving-data';
import type { BevFusionConfig, ModelModality } from '../model/config';
import { createTaskConfig, TINY_TASK_CONFIG, type TaskConfig } from './config';

/**
 * The task settings that match a model configuration: classes, map classes, BEV grid (also the map
 * grid), image and stride-4 feature sizes, depth bins and pillar caps come from the model; target,
 * decode and loss settings from `base` (default {@link TINY_TASK_CONFIG}).
 * @throws BevzipError (E_CONFIG) when the model's image size is not a multiple of 4 or a class is
 *   not a nuScenes detection name.
 */
export function taskConfigForModel(
  model: BevFusionConfig,
  modality: ModelModality,
  base: Readonly<TaskConfig> = TINY_TASK_CONFIG,
): TaskConfig {
  const [h, w] = model.image;
  if (h % 4 !== 0 || w % 4 !== 0) {
    throw new BevzipError(
      ERROR_CODES.CONFIG,
      `model config '${model.name}': image ${h}×${w} must be divisible by 4 for the stride-4 frustum`,
    );
  }
  const [start, stop, step] = model.camera.dbound;
  return createTaskConfig(
    {
      modality,
      classes: model.head.classes as readonly DetectionClass[],
      mapClasses: [...model.map.classes],
      grid: { ...model.grid, size: [...model.grid.size] },
      mapGrid: { ...model.grid, size: [...model.grid.size] },
      headStride: 2,
      camera: {
        ...base.camera,
        imageHeight: h,
        imageWidth: w,
        featureHeight: h / 4,
        featureWidth: w / 4,
        depth: { start, stop, step },
      },
      lidar: { ...base.lidar, maxPillars: model.lidar.maxPillars, maxPointsPerPillar: model.lidar.maxPoints },
    },
    base,
  );
}
