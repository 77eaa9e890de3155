import type { CameraCalibration, Pose } from '../data/types';
import { quatFromYawPitchRoll, quatMultiply, type Quat } from './pose';

const DEG = Math.PI / 180;

/**
 * Rotation taking camera axes (x right, y down, z forward) to ego axes for a camera looking
 * along ego +x: columns are the ego images of the camera axes (0,−1,0), (0,0,−1), (1,0,0).
 */
export const CAMERA_BASE_ROTATION: Quat = [0.5, -0.5, 0.5, -0.5];

/**
 * Calibration of a camera at `yawDeg` around the ego, optical axis `downDeg` below the horizon.
 * The tilt is a rotation about ego +y, which turns +x towards −z.
 */
export function cameraCalib(yawDeg: number, downDeg: number, translation: [number, number, number]): Pose {
  const body = quatFromYawPitchRoll(yawDeg * DEG, downDeg * DEG, 0);
  return { translation, rotation: quatMultiply(body, CAMERA_BASE_ROTATION) };
}

/** Pinhole K for a camera of horizontal field of view `hfovDeg` and principal point at the centre. */
export function pinholeIntrinsic(width: number, height: number, hfovDeg: number): CameraCalibration['intrinsic'] {
  const f = width / 2 / Math.tan((hfovDeg / 2) * DEG);
  return [f, 0, width / 2, 0, f, height / 2, 0, 0, 1];
}
