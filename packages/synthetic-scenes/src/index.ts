/**
 * Deterministic synthetic driving scenes: one sampled road world per scene, ray-cast cameras and
 * LiDAR, boxes with velocities and attributes, and BEV map labels, as `@bevzip/driving-data` frames.
 */
export { generateDataset, generateScene, sampleScene, sceneConditions, sceneName, FRAME_INTERVAL, SYNTHETIC_GENERATOR_VERSION } from './scene';
export type { DatasetOptions, SampledScene, SceneOptions } from './scene';
export { TINY_BEV_GRID, TINY_RIG } from './rig';
export type { RigLidar, SensorRig } from './rig';
export { Rng, hash32, hexToken, mix32, substream } from './rng';
export { CONDITION_TAGS, conditionTags, sampleConditions } from './conditions';
export type { ConditionTag, Lighting, SceneConditions, TaggedConditions } from './conditions';
export { rasterizeMap, MAP_CLASSES } from './map-raster';
export type { MapClass } from './map-raster';
export { renderFrame, pose2DTo3D } from './frame-render';
export type { RenderRequest, RenderedFrame, SceneBox } from './frame-render';
export { RoadSurface, MAP_BIT } from './surface';
export { MATERIAL, CURB_HEIGHT, roadPointAt, toRoadCoords } from './road';
export type { RoadSegment, Material } from './road';
export { OBJECT_SPECS } from './objects';
export type { ObjectKind, PartBox } from './objects';
export { rectsOverlap } from './sat';
export type { BevRect } from './sat';
export { poseAt, velocityAt, footprintAt } from './world';
export type { Motion, Pose2D, SceneObject, World } from './world';
export { POINT_STRIDE, beamElevations } from './lidar-render';
export { bevPreview, cameraContactSheet, hconcat, vconcat } from './contact-sheet';
