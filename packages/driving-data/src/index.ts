/**
 * Model-agnostic driving data: the in-memory sample (`Frame`), pose and camera geometry, the
 * nuScenes-format writer and loader, and the nuScenes detection metrics and map mIoU.
 */
export * from './data/types';
export * from './geometry/pose';
export * from './geometry/camera';
export * from './geometry/gaussian';
export * from './nuscenes';
export * from './metrics';
