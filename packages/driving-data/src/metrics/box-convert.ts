import type { Box3D, DetectionClass, Frame, Pose } from '../data/types';
import { quatFromYaw, quatMultiply, rotateVector, transformPoint } from '../geometry/pose';
import type { EvalBox, EvalBoxes } from './eval-box';
import { egoDistance } from './filter-boxes';

/** A detection as the model emits it: ego frame, `Box3D` size convention [l, w, h]. */
export interface EgoDetection {
  center: [number, number, number];
  /** Length, width, height in metres. */
  size: [number, number, number];
  /** Heading of the length axis from +x (ego frame), radians. */
  yaw: number;
  /** [vx, vy] in the ego frame, m/s. */
  velocity: [number, number];
  detectionName: DetectionClass;
  score: number;
  /** Attribute; derive one with `defaultAttribute` when the model has no attribute head. */
  attributeName: string;
}

/**
 * A ground-truth `Box3D` (global frame) as an `EvalBox`: size reordered to [w, l, h], yaw turned
 * into a quaternion, `numPts` from its lidar points (no radar in bevzip's data), `egoDist` from the
 * sample's ego position.
 */
export function gtBoxToEvalBox(box: Box3D, sampleToken: string, egoPose: Pose): EvalBox {
  const [l, w, h] = box.size;
  return {
    sampleToken,
    translation: [...box.center],
    size: [w, l, h],
    rotation: quatFromYaw(box.yaw),
    velocity: [...box.velocity],
    detectionName: box.detectionName,
    detectionScore: -1,
    attributeName: box.attributeName,
    egoDist: egoDistance(box.center, egoPose.translation),
    numPts: box.numLidarPts,
  };
}

/**
 * A model detection (ego frame) as an `EvalBox` in the global frame: the centre is transformed by
 * `egoPose`, the heading composed with the ego rotation and the velocity rotated by it.
 */
export function egoDetectionToEvalBox(det: EgoDetection, sampleToken: string, egoPose: Pose): EvalBox {
  const [l, w, h] = det.size;
  const translation = transformPoint(egoPose, det.center);
  const v = rotateVector(egoPose.rotation, [det.velocity[0], det.velocity[1], 0]);
  return {
    sampleToken,
    translation,
    size: [w, l, h],
    rotation: quatMultiply(egoPose.rotation, quatFromYaw(det.yaw)),
    velocity: [v[0], v[1]],
    detectionName: det.detectionName,
    detectionScore: det.score,
    attributeName: det.attributeName,
    egoDist: egoDistance(translation, egoPose.translation),
    numPts: -1,
  };
}

/** Ground truth of a set of frames, one entry per frame (also frames without boxes), in frame order. */
export function framesToGtEvalBoxes(frames: readonly Frame[]): EvalBoxes {
  const out: EvalBoxes = new Map();
  for (const f of frames) {
    if (out.has(f.sampleToken))
      throw new Error(`framesToGtEvalBoxes: sample token ${f.sampleToken} appears twice`);
    out.set(
      f.sampleToken,
      f.boxes.map((b) => gtBoxToEvalBox(b, f.sampleToken, f.egoPose)),
    );
  }
  return out;
}
