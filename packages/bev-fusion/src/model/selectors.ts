import type { TagSelector, Tags } from '@bevzip/ir';

/**
 * Tags of each part of the model. Everything after the fuser is tagged `fusion` in every variant
 * (also camera-only and LiDAR-only graphs), so one selector names the same layers in a fusion
 * teacher and a single-modality student.
 */
export const STAGE_TAGS = {
  cameraBackbone: { modality: 'camera', stage: 'backbone' },
  imageNeck: { modality: 'camera', stage: 'neck' },
  viewTransform: { modality: 'camera', stage: 'view' },
  lidarBackbone: { modality: 'lidar', stage: 'backbone' },
  fuser: { modality: 'fusion', stage: 'encoder' },
  bevEncoder: { modality: 'fusion', stage: 'decoder' },
  head: { modality: 'fusion', stage: 'head' },
} as const satisfies Record<string, Tags>;

/**
 * Named selectors for the parts compression methods address ("camera backbone", "LiDAR backbone",
 * "fuser", "image neck", "BEV encoder", "head"), for `selectParams` / `selectValues`.
 *
 * @example
 * const cameraWeights = selectParams(graph, STAGE_SELECTORS.cameraBackbone);
 */
export const STAGE_SELECTORS = {
  cameraBackbone: { ...STAGE_TAGS.cameraBackbone, scope: 'encoders.camera.backbone' },
  imageNeck: { ...STAGE_TAGS.imageNeck, scope: 'encoders.camera.neck' },
  viewTransform: { ...STAGE_TAGS.viewTransform, scope: 'encoders.camera.vtransform' },
  /** Camera backbone, neck and view transform. */
  cameraEncoder: { modality: 'camera', scope: 'encoders.camera' },
  lidarBackbone: { ...STAGE_TAGS.lidarBackbone, scope: 'encoders.lidar.backbone' },
  fuser: { ...STAGE_TAGS.fuser, scope: 'fuser' },
  /** The BEV encoder after the fuser: SECOND backbone and FPN neck. */
  bevEncoder: { ...STAGE_TAGS.bevEncoder, scope: 'decoder' },
  decoderBackbone: { ...STAGE_TAGS.bevEncoder, scope: 'decoder.backbone' },
  decoderNeck: { ...STAGE_TAGS.bevEncoder, scope: 'decoder.neck' },
  /** Both heads. */
  head: { ...STAGE_TAGS.head, scope: 'heads' },
  objectHead: { ...STAGE_TAGS.head, scope: 'heads.object' },
  mapHead: { ...STAGE_TAGS.head, scope: 'heads.map' },
} as const satisfies Record<string, TagSelector>;

export type StageSelectorName = keyof typeof STAGE_SELECTORS;

/** Rows of the cost table, in pipeline order (the spec's stage table). */
export const COST_ROWS: readonly { name: string; selector: StageSelectorName }[] = [
  { name: 'image backbone', selector: 'cameraBackbone' },
  { name: 'image neck', selector: 'imageNeck' },
  { name: 'view transform', selector: 'viewTransform' },
  { name: 'LiDAR backbone', selector: 'lidarBackbone' },
  { name: 'fuser', selector: 'fuser' },
  { name: 'decoder backbone', selector: 'decoderBackbone' },
  { name: 'decoder neck', selector: 'decoderNeck' },
  { name: 'object head', selector: 'objectHead' },
  { name: 'map head', selector: 'mapHead' },
];
