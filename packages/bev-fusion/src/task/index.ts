/**
 * The task around the `bevf-tiny` model: graph inputs from frames (camera frustum → BEV cells,
 * LiDAR pillars), CenterPoint and map targets, the training loss, box decoding and evaluation.
 */
export * from './config';
export * from './camera-geometry';
export * from './pillarize';
export * from './gaussian';
export * from './targets';
export * from './losses';
export * from './batch';
export * from './host-batch';
export * from './data-source';
export * from './decode';
export * from './evaluate';
export * from './oracle';
export * from './from-model';
