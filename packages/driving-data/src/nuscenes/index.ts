export { NuScenesFormatError, type NuScenesErrorLocation } from './errors';
export {
  NUSCENES_CATEGORIES,
  NUSCENES_ATTRIBUTES,
  VISIBILITY_LEVELS,
  categoryToDetectionName,
  isNuScenesCategory,
  type NuScenesCategory,
} from './categories';
export * from './schema';
export { readTable, tablePath } from './read-table';
export { NuScenesDatabase } from './database';
export {
  globalToEgo,
  egoToGlobal,
  egoToSensor,
  sensorToEgo,
  transformPoints,
  transformBox,
  boxGlobalToEgo,
  boxEgoToGlobal,
  boxToAnnotationGeometry,
  boxFromAnnotationGeometry,
  projectToCamera,
  unprojectFromCamera,
  type AnnotationGeometry,
} from './transforms';
export { pointsInBox, countLidarPointsInBoxes } from './points-in-box';
export { boxVelocity, type VelocitySource } from './velocity';
export { LIDAR_POINT_STRIDE, encodePointCloud, decodePointCloud, readPointCloud } from './point-cloud';
export { encodePng, decodeImage, readImage, type RgbImage } from './images';
export { MAP_FILE_MAGIC, encodeMapLabels, decodeMapLabels, readMapLabels } from './map-file';
export { makeToken } from './tokens';
export { writeNuScenes, type WriteNuScenesOptions, type WriteNuScenesSummary } from './writer';
export {
  loadNuScenes,
  NuScenesDataset,
  type LoadNuScenesOptions,
  type SampleFilter,
  type SampleInfo,
} from './loader';
