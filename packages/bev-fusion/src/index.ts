export * from './data/types';
export * from './geometry/pose';
export * from './nuscenes';
export * from './metrics';
export * from './model';
export * from './synthetic';
export * from './stream';
export * from './task';
