import type { Box3D, CameraCalibration, Pose } from '../data/types';
import {
  invertPose,
  quatFromYaw,
  quatMultiply,
  quatYaw,
  quatToMatrix,
  transformPoint,
} from '../geometry/pose';
import type { Quat, Vec3 } from '../geometry/pose';

/** Global → ego: p ↦ R_egoᵀ·(p − t_ego). */
export function globalToEgo(egoPose: Pose, p: Vec3): Vec3 {
  return transformPoint(invertPose(egoPose), p);
}

/** Ego → global: p ↦ R_ego·p + t_ego. */
export function egoToGlobal(egoPose: Pose, p: Vec3): Vec3 {
  return transformPoint(egoPose, p);
}

/** Ego → sensor, where `calib` is the sensor → ego calibration. */
export function egoToSensor(calib: Pose, p: Vec3): Vec3 {
  return transformPoint(invertPose(calib), p);
}

/** Sensor → ego, where `calib` is the sensor → ego calibration. */
export function sensorToEgo(calib: Pose, p: Vec3): Vec3 {
  return transformPoint(calib, p);
}

/**
 * Applies `pose` to the xyz columns of a packed point cloud (`stride` floats per point), copying
 * the other columns (intensity, ring, …). Returns a new array.
 */
export function transformPoints(pose: Pose, points: Float32Array, stride = 5): Float32Array {
  if (stride < 3 || points.length % stride !== 0) {
    throw new RangeError(`transformPoints: expected stride ≥ 3 dividing ${points.length}, got ${stride}`);
  }
  const m = quatToMatrix(pose.rotation);
  const [tx, ty, tz] = pose.translation;
  const out = new Float32Array(points);
  for (let i = 0; i < points.length; i += stride) {
    const x = points[i];
    const y = points[i + 1];
    const z = points[i + 2];
    out[i] = m[0] * x + m[1] * y + m[2] * z + tx;
    out[i + 1] = m[3] * x + m[4] * y + m[5] * z + ty;
    out[i + 2] = m[6] * x + m[7] * y + m[8] * z + tz;
  }
  return out;
}

/**
 * Moves a box by a rigid transform the way the devkit's `Box.rotate`/`translate` do: the centre
 * is transformed, the orientation pre-multiplied (yaw read back as `quaternion_yaw`) and the
 * velocity rotated (z velocity taken as 0).
 */
export function transformBox(box: Box3D, pose: Pose): Box3D {
  const m = quatToMatrix(pose.rotation);
  const [vx, vy] = box.velocity;
  return {
    ...box,
    center: transformPoint(pose, box.center),
    size: [...box.size],
    yaw: quatYaw(quatMultiply(pose.rotation, quatFromYaw(box.yaw))),
    velocity: [m[0] * vx + m[1] * vy, m[3] * vx + m[4] * vy],
  };
}

/** A global-frame box in the ego frame of `egoPose` (devkit `get_sample_data` without the sensor step). */
export function boxGlobalToEgo(box: Box3D, egoPose: Pose): Box3D {
  return transformBox(box, invertPose(egoPose));
}

/** An ego-frame box in the global frame: c_g = R·c + t, q_g = q_ego ⊗ q_z(yaw), v_g = R·v. */
export function boxEgoToGlobal(box: Box3D, egoPose: Pose): Box3D {
  return transformBox(box, egoPose);
}

/** The geometry fields of a `sample_annotation` record. */
export interface AnnotationGeometry {
  translation: Vec3;
  /** nuScenes order: width, length, height. */
  size: Vec3;
  rotation: Quat;
}

/** Box3D (l, w, h, yaw) → nuScenes annotation geometry ([w, l, h], yaw quaternion). */
export function boxToAnnotationGeometry(box: Pick<Box3D, 'center' | 'size' | 'yaw'>): AnnotationGeometry {
  return {
    translation: [...box.center],
    size: [box.size[1], box.size[0], box.size[2]],
    rotation: quatFromYaw(box.yaw),
  };
}

/** nuScenes annotation geometry → Box3D centre, [l, w, h] and yaw (devkit `quaternion_yaw`). */
export function boxFromAnnotationGeometry(g: AnnotationGeometry): Pick<Box3D, 'center' | 'size' | 'yaw'> {
  return { center: [...g.translation], size: [g.size[1], g.size[0], g.size[2]], yaw: quatYaw(g.rotation) };
}

/** The calibration and intrinsics needed to project into a camera. */
type Projection = Pick<CameraCalibration, 'calib' | 'intrinsic'>;

/**
 * Projects an ego-frame point into a camera: p_cam = calib⁻¹·p, [u·z, v·z, z] = K·p_cam.
 * Returns [u, v, z] with z the depth along the optical axis; u and v are NaN when z ≤ `minDepth`
 * (the devkit's renderers use 1 m; the default keeps everything in front of the camera).
 */
export function projectToCamera(camera: Projection, p: Vec3, minDepth = 0): Vec3 {
  const [x, y, z] = egoToSensor(camera.calib, p);
  const k = camera.intrinsic;
  const w = k[6] * x + k[7] * y + k[8] * z;
  if (!(z > minDepth)) return [NaN, NaN, z];
  return [(k[0] * x + k[1] * y + k[2] * z) / w, (k[3] * x + k[4] * y + k[5] * z) / w, z];
}

/**
 * The inverse of {@link projectToCamera}: the ego-frame point at pixel (u, v) and depth z,
 * p_cam = K⁻¹·(u·z, v·z, z), p = calib·p_cam. Assumes K has the usual form (last row 0 0 1).
 */
export function unprojectFromCamera(camera: Projection, u: number, v: number, z: number): Vec3 {
  const [fx, s, cx, , fy, cy] = camera.intrinsic;
  const yc = ((v - cy) * z) / fy;
  const xc = ((u - cx) * z - s * yc) / fx;
  return sensorToEgo(camera.calib, [xc, yc, z]);
}
