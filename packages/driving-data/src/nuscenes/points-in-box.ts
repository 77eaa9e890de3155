import type { Box3D, Frame } from '../data/types';
import { composePoses } from '../geometry/pose';
import { LIDAR_POINT_STRIDE } from './point-cloud';
import { transformPoints } from './transforms';

/**
 * Whether each point (`stride` floats, xyz first, same frame as the box) lies inside the box,
 * faces included as in the devkit's `points_in_box`.
 */
export function pointsInBox(
  box: Pick<Box3D, 'center' | 'size' | 'yaw'>,
  points: Float32Array,
  stride = LIDAR_POINT_STRIDE,
): Uint8Array {
  const c = Math.cos(box.yaw);
  const s = Math.sin(box.yaw);
  const [hl, hw, hh] = [box.size[0] / 2, box.size[1] / 2, box.size[2] / 2];
  const inside = new Uint8Array(points.length / stride);
  for (let i = 0, p = 0; p < points.length; i++, p += stride) {
    const dx = points[p] - box.center[0];
    const dy = points[p + 1] - box.center[1];
    const dz = points[p + 2] - box.center[2];
    const along = dx * c + dy * s;
    const across = -dx * s + dy * c;
    inside[i] = Math.abs(along) <= hl && Math.abs(across) <= hw && Math.abs(dz) <= hh ? 1 : 0;
  }
  return inside;
}

/**
 * `num_lidar_pts` of each global-frame box of a frame: the frame's LiDAR points moved
 * sensor → ego → global, counted inside the box.
 */
export function countLidarPointsInBoxes(frame: Pick<Frame, 'egoPose' | 'lidar' | 'boxes'>): number[] {
  const global = transformPoints(composePoses(frame.egoPose, frame.lidar.calib), frame.lidar.points);
  return frame.boxes.map((box) => pointsInBox(box, global).reduce((a, b) => a + b, 0));
}
