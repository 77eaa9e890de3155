import { z } from 'zod';

/**
 * zod schemas of the nuScenes tables (devkit `docs/schema_nuscenes.md`). Only the fields the
 * loader needs are checked; extra fields (e.g. `category.index` from nuScenes-lidarseg) pass.
 */

const token = z.string().min(1);
/** Foreign keys that may be empty at the ends of a chain. */
const link = z.string();
const vec3 = z.tuple([z.number(), z.number(), z.number()]);
const quat = z.tuple([z.number(), z.number(), z.number(), z.number()]);
const row3 = z.tuple([z.number(), z.number(), z.number()]);
const int = z.number().int();

export const categorySchema = z.object({
  token,
  name: z.string().min(1),
  description: z.string().optional(),
});
export const attributeSchema = z.object({
  token,
  name: z.string().min(1),
  description: z.string().optional(),
});
export const visibilitySchema = z.object({
  token,
  level: z.string().min(1),
  description: z.string().optional(),
});
export const instanceSchema = z.object({
  token,
  category_token: token,
  nbr_annotations: int.nonnegative(),
  first_annotation_token: token,
  last_annotation_token: token,
});
export const sensorSchema = z.object({
  token,
  channel: z.string().min(1),
  modality: z.enum(['camera', 'lidar', 'radar']),
});
export const calibratedSensorSchema = z.object({
  token,
  sensor_token: token,
  translation: vec3,
  rotation: quat,
  camera_intrinsic: z.union([z.tuple([row3, row3, row3]), z.tuple([])]),
});
export const egoPoseSchema = z.object({ token, translation: vec3, rotation: quat, timestamp: int });
export const logSchema = z.object({
  token,
  logfile: z.string(),
  vehicle: z.string(),
  date_captured: z.string(),
  location: z.string(),
});
export const sceneSchema = z.object({
  token,
  name: z.string().min(1),
  description: z.string(),
  log_token: token,
  nbr_samples: int.nonnegative(),
  first_sample_token: token,
  last_sample_token: token,
});
export const sampleSchema = z.object({ token, timestamp: int, scene_token: token, prev: link, next: link });
export const sampleDataSchema = z.object({
  token,
  sample_token: token,
  ego_pose_token: token,
  calibrated_sensor_token: token,
  filename: z.string().min(1),
  fileformat: z.string(),
  width: int.nonnegative(),
  height: int.nonnegative(),
  timestamp: int,
  is_key_frame: z.boolean(),
  prev: link,
  next: link,
});
export const sampleAnnotationSchema = z.object({
  token,
  sample_token: token,
  instance_token: token,
  attribute_tokens: z.array(token),
  visibility_token: link,
  translation: vec3,
  size: z.tuple([z.number().nonnegative(), z.number().nonnegative(), z.number().nonnegative()]),
  rotation: quat,
  num_lidar_pts: int,
  num_radar_pts: int,
  prev: link,
  next: link,
});
export const mapSchema = z.object({
  token,
  log_tokens: z.array(token).min(1),
  category: z.string(),
  filename: z.string(),
});

/**
 * bevzip's own side table `<version>/bevzip_frame.json` (not part of nuScenes, ignored by the
 * devkit): per sample, the rasterised map-label file and the scene conditions.
 */
export const bevzipFrameSchema = z.object({
  token,
  map_filename: z.string(),
  conditions: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
});

/** Every table the devkit loads, by file stem. */
export const TABLE_SCHEMAS = {
  category: categorySchema,
  attribute: attributeSchema,
  visibility: visibilitySchema,
  instance: instanceSchema,
  sensor: sensorSchema,
  calibrated_sensor: calibratedSensorSchema,
  ego_pose: egoPoseSchema,
  log: logSchema,
  scene: sceneSchema,
  sample: sampleSchema,
  sample_data: sampleDataSchema,
  sample_annotation: sampleAnnotationSchema,
  map: mapSchema,
} as const;

export type TableName = keyof typeof TABLE_SCHEMAS;
export const TABLE_NAMES = Object.keys(TABLE_SCHEMAS) as TableName[];

/** Parsed records of each table. */
export type TableRecords = { [K in TableName]: z.infer<(typeof TABLE_SCHEMAS)[K]>[] };
export type CategoryRecord = z.infer<typeof categorySchema>;
export type AttributeRecord = z.infer<typeof attributeSchema>;
export type VisibilityRecord = z.infer<typeof visibilitySchema>;
export type InstanceRecord = z.infer<typeof instanceSchema>;
export type SensorRecord = z.infer<typeof sensorSchema>;
export type CalibratedSensorRecord = z.infer<typeof calibratedSensorSchema>;
export type EgoPoseRecord = z.infer<typeof egoPoseSchema>;
export type LogRecord = z.infer<typeof logSchema>;
export type SceneRecord = z.infer<typeof sceneSchema>;
export type SampleRecord = z.infer<typeof sampleSchema>;
export type SampleDataRecord = z.infer<typeof sampleDataSchema>;
export type SampleAnnotationRecord = z.infer<typeof sampleAnnotationSchema>;
export type MapRecord = z.infer<typeof mapSchema>;
export type BevzipFrameRecord = z.infer<typeof bevzipFrameSchema>;
