import { quatFromYaw } from '../geometry/pose';
import type { Vec3 } from '../geometry/pose';
import { countLidarPointsInBoxes, pointsInBox } from './points-in-box';
import { tinyScene } from './testing/tiny-scene';

describe('points in box', () => {
  it('tests points against a yawed box', () => {
    // 4×2×2 box at (10, 0, 1) turned 90°: it spans x ∈ [9, 11], y ∈ [−2, 2], z ∈ [0, 2].
    const box = { center: [10, 0, 1] as Vec3, size: [4, 2, 2] as Vec3, yaw: Math.PI / 2 };
    const pts = new Float32Array([
      10, 1.9, 1, 0, 0, 10.9, -1.5, 0.5, 0, 0, 11.5, 0, 1, 0, 0, 10, 0, 2.5, 0, 0, 9.5, 2.5, 1, 0, 0,
    ]);
    expect(Array.from(pointsInBox(box, pts))).toEqual([1, 1, 0, 0, 0]);
  });

  it('counts points on a face as inside, as the devkit does', () => {
    const box = { center: [0, 0, 0] as Vec3, size: [2, 4, 6] as Vec3, yaw: 0 };
    const pts = new Float32Array([1, 0, 0, 0, 0, 0, -2, 3, 0, 0, 1.25, 0, 0, 0, 0]);
    expect(Array.from(pointsInBox(box, pts))).toEqual([1, 1, 0]);
  });

  it('counts a frame’s LiDAR points inside its global boxes', () => {
    const frame = tinyScene()[0];
    // Put one box on the ego origin (global (100, 200)) and one far away; the LiDAR sees points
    // at sensor (0, 0, −1.84) → ego (0.9, 0, 0) and sensor (0, −0.9, −1.34) → ego (0, 0, 0.5).
    frame.egoPose = { translation: [100, 200, 0], rotation: quatFromYaw(0.5) };
    frame.lidar.points = new Float32Array([0, 0, -1.84, 1, 0, 0, -0.9, -1.34, 1, 0, 50, 50, 0, 1, 0]);
    frame.boxes = [
      {
        ...frame.boxes[0],
        center: [100 + 0.45 * Math.cos(0.5), 200 + 0.45 * Math.sin(0.5), 0.25],
        size: [1, 0.5, 0.6],
        yaw: 0.5,
      },
      { ...frame.boxes[0], center: [0, 0, 0] },
    ];
    expect(countLidarPointsInBoxes(frame)).toEqual([2, 0]);
  });
});
