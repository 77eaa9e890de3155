export * from './data/types';
export * from './geometry/pose';
export * from './nuscenes';
export * from './metrics';
// Both folders map nuScenes category names; the loader's mapping is the one exported.
export { categoryToDetectionName } from './nuscenes';
