export * from './data/types';
export * from './geometry/pose';
export * from './nuscenes';
export * from './metrics';
