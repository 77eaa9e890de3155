/**
 * In-memory form of one driving sample (a nuScenes key frame), shared by the synthetic scene
 * generator, the nuScenes-format writer and the loader. Conventions follow `docs`:
 * model frame = ego (x forward, y left, z up, metres); quaternions are [w, x, y, z];
 * boxes are (centre, l/w/h, yaw about +z from +x, velocity) and convert to nuScenes' [w, l, h]
 * only at import/export.
 */

/** A rigid transform p ↦ R(q)·p + t. */
export interface Pose {
  translation: [number, number, number];
  /** Unit quaternion [w, x, y, z]. */
  rotation: [number, number, number, number];
}

export const DETECTION_CLASSES = [
  'car',
  'truck',
  'bus',
  'trailer',
  'construction_vehicle',
  'pedestrian',
  'motorcycle',
  'bicycle',
  'traffic_cone',
  'barrier',
] as const;
export type DetectionClass = (typeof DETECTION_CLASSES)[number];

export const CAMERA_CHANNELS = [
  'CAM_FRONT',
  'CAM_FRONT_RIGHT',
  'CAM_FRONT_LEFT',
  'CAM_BACK',
  'CAM_BACK_LEFT',
  'CAM_BACK_RIGHT',
] as const;
export type CameraChannel = (typeof CAMERA_CHANNELS)[number];

/** A 3D box. Frame is stated by the holder (global in a `Frame`, ego in model targets). */
export interface Box3D {
  center: [number, number, number];
  /** Length (along the heading), width, height in metres. */
  size: [number, number, number];
  /** Heading of the length axis from +x, counter-clockwise, radians. */
  yaw: number;
  velocity: [number, number];
  detectionName: DetectionClass;
  /** nuScenes full category name, e.g. `vehicle.car`. */
  categoryName: string;
  /** nuScenes attribute name, or '' when the class has none. */
  attributeName: string;
  numLidarPts: number;
  /** nuScenes visibility level 1..4. */
  visibility: 1 | 2 | 3 | 4;
  /** Stable id of the object across frames of one scene (becomes the nuScenes instance). */
  instanceId: string;
}

/**
 * A calibrated camera: where it sits on the ego and how it projects. The one camera type of the
 * data side; it is structurally a `CameraCalibration` of `@bevzip/ir`, so calibrations pass to the
 * runtime's sensor geometry as they are.
 */
export interface CameraCalibration {
  /** Sensor → ego. */
  calib: Pose;
  /** 3×3 row-major intrinsic matrix: [u·z, v·z, z] = K·p_sensor. */
  intrinsic: [number, number, number, number, number, number, number, number, number];
  /** Image size in pixels, as the intrinsics address it. */
  width: number;
  height: number;
}

/** One camera's image of a sample, with the calibration it was taken with. */
export interface CameraData extends CameraCalibration {
  channel: CameraChannel;
  /** RGB, row-major, height×width×3. */
  image: Uint8Array;
  timestamp: number;
}

export interface LidarData {
  /** Sensor → ego. */
  calib: Pose;
  /** float32 ×5 per point (x, y, z, intensity, ring) in the LIDAR_TOP sensor frame. */
  points: Float32Array;
  timestamp: number;
}

/**
 * A BEV grid in the ego frame: row i ↔ x ∈ [xmin + i·cell, xmin + (i+1)·cell), column j ↔ y;
 * `size` = [rows, cols]. Structurally a `BevGridGeometry` of `@bevzip/ir`.
 */
export interface BevGrid {
  xmin: number;
  ymin: number;
  /** Metres per cell. */
  cell: number;
  size: [number, number];
}

/** Rasterised BEV map labels on a grid, one Uint8 mask (0/1) per class. */
export interface MapLabels extends BevGrid {
  classes: string[];
  masks: Uint8Array[];
}

export interface Frame {
  sceneName: string;
  sampleToken: string;
  /** Microseconds. */
  timestamp: number;
  /** Ego → global at the LiDAR timestamp. */
  egoPose: Pose;
  lidar: LidarData;
  cameras: CameraData[];
  /** Ground-truth boxes in the global frame. */
  boxes: Box3D[];
  map?: MapLabels;
  /** Scene conditions, for reports and per-condition metrics. */
  conditions?: Record<string, string | number | boolean>;
}
