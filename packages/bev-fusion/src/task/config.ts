import { BevzipError, ERROR_CODES } from '@bevzip/ir';
import { DETECTION_CLASSES, type BevGrid, type DetectionClass } from '@bevzip/driving-data';
import { TINY_BEV_GRID } from '@bevzip/synthetic-scenes';
import type { ModelModality } from '../model/config';

/**
 * Everything the task code (inputs, targets, losses, decoding) needs to agree with a model of the
 * `bevf-tiny` family. One object is shared by the batch builder, the loss and the decoder.
 */
export interface TaskConfig {
  /** Which sensor branches the model has; it decides which graph inputs a batch carries. */
  modality: ModelModality;
  /** Detection classes in heat-map channel order. */
  classes: readonly DetectionClass[];
  /** Map classes in map-head channel order; empty for a model without a map head. */
  mapClasses: readonly string[];
  /** BEV grid of the camera pool and the pillar scatter. */
  grid: BevGrid;
  /** Stride of the detection head relative to `grid`. */
  headStride: number;
  /** Grid of the map head's output (the map labels are resampled to it when they differ). */
  mapGrid: BevGrid;
  /** Height range [zmin, zmax) kept by the camera pool and the pillariser (one z bin). */
  zRange: [number, number];
  camera: {
    /** Image size fed to the model (all cameras share it). */
    imageHeight: number;
    imageWidth: number;
    /** Feature-map size of the view transform (image / 4 in tiny). */
    featureHeight: number;
    featureWidth: number;
    /** Depth bins d_k = start + step·k for k = 0 … ⌊(stop − start)/step⌋ − 1. */
    depth: { start: number; stop: number; step: number };
    /**
     * Added to the frustum's pixel coordinates before unprojection. 0.5 treats the centre of pixel
     * (c, r) as (c + 0.5, r + 0.5), the convention the synthetic renderer casts its rays with.
     */
    pixelOffset: number;
  };
  lidar: {
    /** Maximum pillars per sample (P) and points per pillar (M). */
    maxPillars: number;
    maxPointsPerPillar: number;
    /** Multiplies the raw intensity (0–255 in nuScenes) before it becomes a feature. */
    intensityScale: number;
  };
  /**
   * CenterPoint target settings. Boxes with fewer than `minLidarPoints` LiDAR points get no target,
   * as MIT's `use_valid_flag` and the evaluation (which drops such ground truth) do; 0 keeps all.
   */
  targets: { minRadius: number; minOverlap: number; minLidarPoints: number };
  /** Decoder settings. */
  decode: { topK: number; scoreThreshold: number };
  /** Loss weights: total = heatmap·w + reg·w + map·w (reg already carries its 0.25 here). */
  lossWeights: { heatmap: number; reg: number; map: number };
  /** Per-component L1 weights of the 10 regression channels. */
  codeWeights: readonly number[];
}

/** The synthetic data's detection classes, in heat-map channel order. */
export const SYNTHETIC_CLASSES: readonly DetectionClass[] = Object.freeze([
  'car',
  'truck',
  'pedestrian',
  'bicycle',
  'traffic_cone',
  'barrier',
]);

/** Regression channels of the detection head, in order. */
export const REG_CHANNELS = ['dx', 'dy', 'z', 'log_l', 'log_w', 'log_h', 'sin', 'cos', 'vx', 'vy'] as const;

/** `bevf-tiny` (docs/bevfusion.md §3) with both sensors. */
export const TINY_TASK_CONFIG: Readonly<TaskConfig> = Object.freeze({
  modality: 'fusion',
  classes: SYNTHETIC_CLASSES,
  mapClasses: Object.freeze(['drivable_area', 'divider']),
  grid: Object.freeze({ ...TINY_BEV_GRID, size: [...TINY_BEV_GRID.size] as [number, number] }),
  headStride: 2,
  mapGrid: Object.freeze({ ...TINY_BEV_GRID, size: [...TINY_BEV_GRID.size] as [number, number] }),
  zRange: [-10, 10] as [number, number],
  camera: Object.freeze({
    imageHeight: 32,
    imageWidth: 88,
    featureHeight: 8,
    featureWidth: 22,
    depth: Object.freeze({ start: 1, stop: 37, step: 1.5 }),
    pixelOffset: 0.5,
  }),
  lidar: Object.freeze({ maxPillars: 3072, maxPointsPerPillar: 12, intensityScale: 1 / 255 }),
  targets: Object.freeze({ minRadius: 1, minOverlap: 0.1, minLidarPoints: 1 }),
  decode: Object.freeze({ topK: 100, scoreThreshold: 0.05 }),
  lossWeights: Object.freeze({ heatmap: 1, reg: 0.25, map: 1 }),
  codeWeights: Object.freeze([1, 1, 1, 1, 1, 1, 1, 1, 0.2, 0.2]),
}) as Readonly<TaskConfig>;

/** A copy of `base` (default {@link TINY_TASK_CONFIG}) with top-level overrides, validated. */
export function createTaskConfig(
  overrides: Partial<TaskConfig> = {},
  base: Readonly<TaskConfig> = TINY_TASK_CONFIG,
): TaskConfig {
  const cfg: TaskConfig = { ...base, ...overrides };
  validateTaskConfig(cfg);
  return cfg;
}

/** Number of depth bins D of the frustum. */
export function depthBins(cfg: Pick<TaskConfig, 'camera'>): number {
  const { start, stop, step } = cfg.camera.depth;
  return Math.floor((stop - start) / step + 1e-9);
}

/** The detection head's grid: `grid` coarsened by `headStride`. */
export function headGrid(cfg: Pick<TaskConfig, 'grid' | 'headStride'>): BevGrid {
  const s = cfg.headStride;
  return {
    xmin: cfg.grid.xmin,
    ymin: cfg.grid.ymin,
    cell: cfg.grid.cell * s,
    size: [cfg.grid.size[0] / s, cfg.grid.size[1] / s],
  };
}

/** Whether a modality has the camera / LiDAR branch. */
export function usesCamera(m: ModelModality): boolean {
  return m === 'camera' || m === 'fusion';
}
export function usesLidar(m: ModelModality): boolean {
  return m === 'lidar' || m === 'fusion';
}

/** Throws a `E_CONFIG` BevzipError naming the first invalid field. */
export function validateTaskConfig(cfg: TaskConfig): void {
  const bad = (field: string, expected: string, got: unknown): never => {
    throw new BevzipError(
      ERROR_CODES.CONFIG,
      `task config: ${field} must be ${expected}, got ${JSON.stringify(got)}`,
    );
  };
  if (!['camera', 'lidar', 'fusion'].includes(cfg.modality))
    bad('modality', "'camera', 'lidar' or 'fusion'", cfg.modality);
  if (cfg.classes.length === 0) bad('classes', 'a non-empty list', cfg.classes);
  for (const c of cfg.classes)
    if (!(DETECTION_CLASSES as readonly string[]).includes(c)) bad('classes', 'nuScenes detection names', c);
  if (new Set(cfg.classes).size !== cfg.classes.length) bad('classes', 'free of duplicates', cfg.classes);
  for (const [name, g] of [
    ['grid', cfg.grid],
    ['mapGrid', cfg.mapGrid],
  ] as const) {
    if (!(g.cell > 0)) bad(`${name}.cell`, 'positive', g.cell);
    if (!g.size.every((n) => Number.isInteger(n) && n > 0))
      bad(`${name}.size`, 'two positive integers', g.size);
  }
  if (
    !(Number.isInteger(cfg.headStride) && cfg.headStride > 0) ||
    cfg.grid.size.some((n) => n % cfg.headStride !== 0)
  ) {
    bad('headStride', 'a positive integer dividing grid.size', cfg.headStride);
  }
  if (!(cfg.zRange[1] > cfg.zRange[0])) bad('zRange', '[zmin, zmax) with zmax > zmin', cfg.zRange);
  if (depthBins(cfg) < 1 || !(cfg.camera.depth.step > 0))
    bad('camera.depth', 'a range holding at least one bin', cfg.camera.depth);
  const cam = cfg.camera;
  if (
    ![cam.imageHeight, cam.imageWidth, cam.featureHeight, cam.featureWidth].every(
      (n) => Number.isInteger(n) && n > 0,
    )
  ) {
    bad('camera', 'positive integer image and feature sizes', cam);
  }
  if (!(cfg.lidar.maxPillars > 0 && cfg.lidar.maxPointsPerPillar > 0))
    bad('lidar', 'positive maxPillars and maxPointsPerPillar', cfg.lidar);
  if (!(cfg.targets.minOverlap > 0 && cfg.targets.minOverlap < 1))
    bad('targets.minOverlap', 'in (0, 1)', cfg.targets.minOverlap);
  if (cfg.codeWeights.length !== REG_CHANNELS.length)
    bad('codeWeights', `${REG_CHANNELS.length} numbers`, cfg.codeWeights);
}
