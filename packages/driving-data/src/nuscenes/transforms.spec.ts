import type { Box3D, Pose } from '../data/types';
import { quatFromYaw } from '../geometry/pose';
import type { Vec3 } from '../geometry/pose';
import { FRONT_CALIB, LIDAR_CALIB } from './testing/tiny-scene';
import {
  boxEgoToGlobal,
  boxFromAnnotationGeometry,
  boxGlobalToEgo,
  boxToAnnotationGeometry,
  egoToGlobal,
  egoToSensor,
  globalToEgo,
  projectToCamera,
  sensorToEgo,
  transformPoints,
  unprojectFromCamera,
} from './transforms';

const close = (a: readonly number[], b: readonly number[], digits = 10) =>
  a.forEach((v, i) => expect(v).toBeCloseTo(b[i], digits));

/** Ego at (10, 5, 0) facing global +y (yaw 90°). */
const EGO: Pose = { translation: [10, 5, 0], rotation: quatFromYaw(Math.PI / 2) };

const BOX: Box3D = {
  center: [10, 8, 1],
  size: [4, 2, 1.5],
  yaw: Math.PI / 2 + 0.25,
  velocity: [0, 2],
  detectionName: 'car',
  categoryName: 'vehicle.car',
  attributeName: 'vehicle.moving',
  numLidarPts: 5,
  visibility: 4,
  instanceId: 'a',
};

describe('nuScenes frame transforms', () => {
  it('maps a global point into a rotated ego frame and back', () => {
    // p − t = (0, 3, 1); rotating by −90° sends (x, y) to (y, −x).
    close(globalToEgo(EGO, [10, 8, 1]), [3, 0, 1]);
    close(egoToGlobal(EGO, [3, 0, 1]), [10, 8, 1]);
  });

  it('moves a global box into the ego frame as the devkit does', () => {
    const ego = boxGlobalToEgo(BOX, EGO);
    close(ego.center, [3, 0, 1]);
    expect(ego.yaw).toBeCloseTo(0.25, 12);
    close(ego.velocity, [2, 0]);
    expect(ego.size).toEqual([4, 2, 1.5]);
    const back = boxEgoToGlobal(ego, EGO);
    close(back.center, BOX.center);
    expect(back.yaw).toBeCloseTo(BOX.yaw, 12);
    close(back.velocity, BOX.velocity);
  });

  it('converts box size and yaw to nuScenes [w, l, h] and a yaw quaternion', () => {
    const g = boxToAnnotationGeometry(BOX);
    expect(g.size).toEqual([2, 4, 1.5]);
    close(g.rotation, [Math.cos(BOX.yaw / 2), 0, 0, Math.sin(BOX.yaw / 2)], 14);
    const back = boxFromAnnotationGeometry(g);
    expect(back.size).toEqual([4, 2, 1.5]);
    expect(back.yaw).toBeCloseTo(BOX.yaw, 12);
  });

  it('takes LIDAR_TOP points (x right, y forward) into the ego frame', () => {
    // LiDAR at (0.9, 0, 1.84) rotated −90°: its +y (forward) is ego +x, its +x (right) is ego −y.
    close(sensorToEgo(LIDAR_CALIB, [0, 10, 0]), [10.9, 0, 1.84]);
    close(egoToSensor(LIDAR_CALIB, [0.9, -3, 1.84]), [3, 0, 0]);
    const pts = transformPoints(LIDAR_CALIB, new Float32Array([0, 10, 0, 42, 7, 1, 0, -1, 0.5, 3]));
    close(Array.from(pts), [10.9, 0, 1.84, 42, 7, 0.9, -1, 0.84, 0.5, 3], 5);
  });

  it('projects an ego point into a forward camera with [u·z, v·z, z] = K·p_cam', () => {
    const camera = {
      calib: FRONT_CALIB,
      intrinsic: [100, 0, 50, 0, 100, 40, 0, 0, 1] as [
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
        number,
      ],
    };
    // camera at (1.5, 0, 1.5): p − t = (10, −2, −1) → p_cam = (2, 1, 10) → u = 100·0.2 + 50, v = 100·0.1 + 40
    close(projectToCamera(camera, [11.5, -2, 0.5]), [70, 50, 10]);
    close(unprojectFromCamera(camera, 70, 50, 10), [11.5, -2, 0.5]);
    const behind = projectToCamera(camera, [-5, 0, 1.5]);
    expect(Number.isNaN(behind[0]) && Number.isNaN(behind[1])).toBe(true);
    expect(behind[2]).toBeCloseTo(-6.5, 12);
    const tooNear: Vec3 = projectToCamera(camera, [2, 0, 1.5], 1);
    expect(Number.isNaN(tooNear[0])).toBe(true);
  });
});
