import { BevzipError, ERROR_CODES } from '@bevzip/ir';
import type { BevGrid } from '@bevzip/driving-data';
import { TINY_BEV_GRID } from '@bevzip/synthetic-scenes';
import { SYNTHETIC_CLASSES } from '../task/config';

/** Sensor sets of a model. */
export const MODALITIES = ['fusion', 'camera', 'lidar'] as const;
/** Which sensor branches a model has. Camera-only and LiDAR-only graphs omit the other inputs. */
export type ModelModality = (typeof MODALITIES)[number];

/**
 * Hyper-parameters of a BEVFusion-style model (MIT layout: encoders → fuser → decoder → heads).
 * Spatial sizes are per sample; the graph's batch dimension stays -1.
 */
export interface BevFusionConfig {
  name: string;
  /** Cameras per sample; the `images` input is [B·cameras, H, W, 3]. */
  cameras: number;
  /** Image height and width in pixels. */
  image: [number, number];
  camera: {
    /** Output channels of c1..c6; c1, c3 and c5 have stride 2, so the features sit at strides 2/4/8. */
    backbone: [number, number, number, number, number, number];
    /** Channels of the image neck (the stride-4 map the view transform lifts). */
    neck: number;
    /** Depth bins [min, max, step] in metres: bin k covers depth min + k·step (D = (max − min)/step). */
    dbound: [number, number, number];
    /** Feature channels C lifted into the BEV. */
    context: number;
  };
  lidar: {
    /** Pillars per sample P (padding pillars have coords −1). */
    maxPillars: number;
    /** Points per pillar M (padding points have mask 0). */
    maxPoints: number;
    /** Per-point features: x, y, z, intensity, offset from the pillar mean (3), from the pillar centre (2). */
    pointFeatures: number;
    /** PFN output channels. */
    channels: number;
  };
  /** BEV grid shared by the camera pool, the pillar scatter and the map labels. */
  grid: BevGrid;
  /** Fuser output channels. */
  fuser: number;
  decoder: {
    /** SECOND stage widths (stage 1 at stride 2, stage 2 at stride 4 of the BEV grid). */
    stages: [number, number];
    /** Channels of each FPN branch; the neck output has twice this. */
    neck: number;
  };
  head: {
    /** Shared-conv channels of the object head. */
    channels: number;
    /** Initial bias of the heat-map logits (−2.19 ≈ logit of 0.1, CenterPoint's prior). */
    heatmapBias: number;
    /** Detection classes, in heat-map channel order. */
    classes: readonly string[];
  };
  map: {
    channels: number;
    classes: readonly string[];
  };
  /** Batch-norm running-statistics momentum (PyTorch convention) and epsilon. */
  bn: { momentum: number; eps: number };
}

/** Map-head classes, in output channel order. */
export const MAP_HEAD_CLASSES = ['drivable_area', 'divider'] as const;

/** `bevf-tiny`, exactly as specified: ≈311k params, ≈258 MMACs per sample with 6 classes. */
export const TINY_CONFIG: BevFusionConfig = {
  name: 'tiny',
  cameras: 6,
  image: [32, 88],
  camera: { backbone: [16, 16, 32, 32, 64, 64], neck: 32, dbound: [1, 37, 1.5], context: 32 },
  lidar: { maxPillars: 3072, maxPoints: 12, pointFeatures: 9, channels: 32 },
  grid: TINY_BEV_GRID,
  fuser: 32,
  decoder: { stages: [48, 96], neck: 32 },
  head: { channels: 32, heatmapBias: -2.19, classes: SYNTHETIC_CLASSES },
  map: { channels: 32, classes: MAP_HEAD_CLASSES },
  bn: { momentum: 0.1, eps: 1e-5 },
};

/**
 * `bevf-micro`, for tests and CI: the same cameras and images as tiny (so the same data feeds it), half
 * the channels everywhere, 12 depth bins of 3 m, and a 32×32 BEV grid of 1.6 m cells over the same
 * [−25.6, 25.6)² area (so at most 1024 pillars).
 */
export const MICRO_CONFIG: BevFusionConfig = {
  ...TINY_CONFIG,
  name: 'micro',
  camera: { backbone: [8, 8, 16, 16, 32, 32], neck: 16, dbound: [1, 37, 3], context: 16 },
  lidar: { maxPillars: 1024, maxPoints: 12, pointFeatures: 9, channels: 16 },
  grid: { xmin: -25.6, ymin: -25.6, cell: 1.6, size: [32, 32] },
  fuser: 16,
  decoder: { stages: [24, 48], neck: 16 },
  head: { ...TINY_CONFIG.head, channels: 16 },
  map: { ...TINY_CONFIG.map, channels: 16 },
};

/** `bevf-small`: the tiny layout and grid with every width 1.5× (camera, PFN, fuser, decoder, heads). */
export const SMALL_CONFIG: BevFusionConfig = {
  ...TINY_CONFIG,
  name: 'small',
  camera: { backbone: [24, 24, 48, 48, 96, 96], neck: 48, dbound: [1, 37, 1.5], context: 48 },
  lidar: { ...TINY_CONFIG.lidar, channels: 48 },
  fuser: 48,
  decoder: { stages: [64, 128], neck: 48 },
  head: { ...TINY_CONFIG.head, channels: 48 },
  map: { ...TINY_CONFIG.map, channels: 48 },
};

/** The named configurations. */
export const BEV_FUSION_CONFIGS: Readonly<Record<'micro' | 'tiny' | 'small', BevFusionConfig>> = {
  micro: MICRO_CONFIG,
  tiny: TINY_CONFIG,
  small: SMALL_CONFIG,
};

/** Sizes derived from a config: the frustum layout behind `cam_bev_index` and the head grids. */
export interface ModelGeometry {
  /** Image-feature map (stride 4) height and width. */
  featH: number;
  featW: number;
  /** Depth bins D. */
  depthBins: number;
  /** Frustum points per sample: cameras · featH · featW · D, ordered (camera, row, column, depth bin). */
  frustumPoints: number;
  /** Object-head grid (BEV stride 2). */
  headH: number;
  headW: number;
}

/** Frustum and head sizes of a config; a config that does not tile evenly is a coded error. */
export function modelGeometry(config: BevFusionConfig): ModelGeometry {
  const [h, w] = config.image;
  const [rows, cols] = config.grid.size;
  const [dmin, dmax, dstep] = config.camera.dbound;
  const depthBins = Math.round((dmax - dmin) / dstep);
  const bad = (field: string, want: string) => {
    throw new BevzipError(ERROR_CODES.CONFIG, `model config '${config.name}': ${field} ${want}`);
  };
  if (h % 8 !== 0 || w % 8 !== 0)
    bad('image', `must be divisible by 8 (three stride-2 convs), got ${h}×${w}`);
  if (rows % 4 !== 0 || cols % 4 !== 0)
    bad('grid.size', `must be divisible by 4 (two stride-2 decoder stages), got ${rows}×${cols}`);
  if (!(depthBins > 0) || Math.abs(depthBins * dstep - (dmax - dmin)) > 1e-6)
    bad('camera.dbound', `must split [min, max) into whole steps, got [${config.camera.dbound}]`);
  const featH = h / 4;
  const featW = w / 4;
  return {
    featH,
    featW,
    depthBins,
    frustumPoints: config.cameras * featH * featW * depthBins,
    headH: rows / 2,
    headW: cols / 2,
  };
}
