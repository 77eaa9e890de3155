/**
 * nuScenes detection metrics (mAP, TP errors, NDS), BEV map-segmentation mIoU and the detection
 * submission format.
 */
export * from './eval-box';
export * from './detection-config';
export * from './metric-data';
export * from './box-errors';
export * from './accumulate';
export * from './calc';
export * from './detection-metrics';
export * from './filter-boxes';
export * from './evaluate-detection';
export * from './attributes';
export * from './box-convert';
export * from './map-iou';
export * from './submission-writer';
export * from './submission-reader';
export * from './frame-evaluation';
export * from './bootstrap';
