import type { Pose } from '../data/types';

/** Quaternion [w, x, y, z]. */
export type Quat = [number, number, number, number];
export type Vec3 = [number, number, number];

export const IDENTITY_POSE: Pose = { translation: [0, 0, 0], rotation: [1, 0, 0, 0] };

/** Hamilton product a ⊗ b (apply b first, then a). */
export function quatMultiply(a: Quat, b: Quat): Quat {
  const [aw, ax, ay, az] = a;
  const [bw, bx, by, bz] = b;
  return [
    aw * bw - ax * bx - ay * by - az * bz,
    aw * bx + ax * bw + ay * bz - az * by,
    aw * by - ax * bz + ay * bw + az * bx,
    aw * bz + ax * by - ay * bx + az * bw,
  ];
}

export function quatConjugate(q: Quat): Quat {
  return [q[0], -q[1], -q[2], -q[3]];
}

/** Rotation about +z by `yaw` radians. */
export function quatFromYaw(yaw: number): Quat {
  return [Math.cos(yaw / 2), 0, 0, Math.sin(yaw / 2)];
}

/** Rotation from intrinsic yaw (z), then pitch (y), then roll (x), radians. */
export function quatFromYawPitchRoll(yaw: number, pitch: number, roll: number): Quat {
  return quatMultiply(quatMultiply(quatFromYaw(yaw), [Math.cos(pitch / 2), 0, Math.sin(pitch / 2), 0]), [
    Math.cos(roll / 2),
    Math.sin(roll / 2),
    0,
    0,
  ]);
}

/** Row-major 3×3 rotation matrix of a unit quaternion. */
export function quatToMatrix(q: Quat): number[] {
  const [w, x, y, z] = q;
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
}

export function rotateVector(q: Quat, v: Vec3): Vec3 {
  const m = quatToMatrix(q);
  return [
    m[0] * v[0] + m[1] * v[1] + m[2] * v[2],
    m[3] * v[0] + m[4] * v[1] + m[5] * v[2],
    m[6] * v[0] + m[7] * v[1] + m[8] * v[2],
  ];
}

/**
 * Yaw of the rotated x axis, as the nuScenes devkit's `quaternion_yaw` computes it
 * (the rotation is projected onto the xy plane).
 */
export function quatYaw(q: Quat): number {
  const v = rotateVector(q, [1, 0, 0]);
  return Math.atan2(v[1], v[0]);
}

/** p ↦ R·p + t. */
export function transformPoint(pose: Pose, p: Vec3): Vec3 {
  const r = rotateVector(pose.rotation, p);
  return [r[0] + pose.translation[0], r[1] + pose.translation[1], r[2] + pose.translation[2]];
}

/** The inverse transform: p ↦ Rᵀ·(p − t). */
export function invertPose(pose: Pose): Pose {
  const rotation = quatConjugate(pose.rotation);
  const t = rotateVector(rotation, pose.translation);
  return { rotation, translation: [-t[0], -t[1], -t[2]] };
}

/** `outer ∘ inner`: apply `inner` first, then `outer`. */
export function composePoses(outer: Pose, inner: Pose): Pose {
  return {
    rotation: quatMultiply(outer.rotation, inner.rotation),
    translation: transformPoint(outer, inner.translation),
  };
}

/** Row-major 4×4 homogeneous matrix of a pose. */
export function poseToMatrix(pose: Pose): number[] {
  const m = quatToMatrix(pose.rotation);
  const [tx, ty, tz] = pose.translation;
  return [m[0], m[1], m[2], tx, m[3], m[4], m[5], ty, m[6], m[7], m[8], tz, 0, 0, 0, 1];
}
