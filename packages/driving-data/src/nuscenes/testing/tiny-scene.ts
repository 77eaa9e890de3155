import type { Box3D, CameraData, Frame, Pose } from '../../data/types';
import { quatFromYaw, quatMultiply } from '../../geometry/pose';
import type { Quat, Vec3 } from '../../geometry/pose';

/** Camera → ego rotation of a forward-looking camera (x right, y down, z forward). */
export const FRONT_CAMERA_ROTATION: Quat = [0.5, -0.5, 0.5, -0.5];
/** LIDAR_TOP is x-right, y-forward: a −90° yaw from the ego frame. */
export const LIDAR_CALIB: Pose = { translation: [0.9, 0, 1.84], rotation: quatFromYaw(-Math.PI / 2) };
export const FRONT_CALIB: Pose = { translation: [1.5, 0, 1.5], rotation: FRONT_CAMERA_ROTATION };
export const BACK_CALIB: Pose = {
  translation: [-1, 0, 1.5],
  rotation: quatMultiply(quatFromYaw(Math.PI), FRONT_CAMERA_ROTATION),
};
export const INTRINSIC: CameraData['intrinsic'] = [2, 0, 2, 0, 2, 1.5, 0, 0, 1];
export const EGO_YAW = 0.5;
/** Sample k is at 1000 s + 0.5 k s. */
export const tinyTimestamp = (k: number): number => 1_000_000_000 + 500_000 * k;

function image(seed: number): Uint8Array {
  const data = new Uint8Array(4 * 3 * 3);
  for (let i = 0; i < data.length; i++) data[i] = (seed * 37 + i * 11) % 256;
  return data;
}

function box(partial: Partial<Box3D> & Pick<Box3D, 'center' | 'instanceId'>): Box3D {
  return {
    size: [4.5, 1.9, 1.6],
    yaw: 0.3,
    velocity: [0, 0],
    detectionName: 'car',
    categoryName: 'vehicle.car',
    attributeName: 'vehicle.moving',
    numLidarPts: 12,
    visibility: 4,
    ...partial,
  };
}

/**
 * Three hand-built samples of one scene, 0.5 s apart: a car moving +2 m/s along global x in every
 * sample, a pedestrian in the first two (moving (1, 0.5) m/s), a barrier only in the last, two
 * 4×3 cameras, four LiDAR points each, map labels on the first sample and conditions on all.
 */
export function tinyScene(): Frame[] {
  return [0, 1, 2].map((k) => {
    const t = tinyTimestamp(k);
    const egoPose: Pose = { translation: [100 + 5 * k, 200, 0], rotation: quatFromYaw(EGO_YAW) };
    const boxes: Box3D[] = [
      box({ center: [110 + 1.0 * k, 205, 0.8], instanceId: 'car-1', velocity: [2, 0] }),
    ];
    if (k < 2) {
      const c: Vec3 = [120 + 0.5 * k, 210 + 0.25 * k, 0.9];
      boxes.push(
        box({
          center: c,
          instanceId: 'ped-1',
          size: [0.7, 0.65, 1.75],
          yaw: -1.2,
          detectionName: 'pedestrian',
          categoryName: 'human.pedestrian.adult',
          attributeName: 'pedestrian.moving',
          numLidarPts: 3,
          visibility: 2,
        }),
      );
    } else {
      boxes.push(
        box({
          center: [108, 195, 0.5],
          instanceId: 'barrier-1',
          size: [2, 0.5, 1],
          yaw: 2.9,
          detectionName: 'barrier',
          categoryName: 'movable_object.barrier',
          attributeName: '',
          numLidarPts: 1,
          visibility: 1,
        }),
      );
    }
    const points = new Float32Array([
      1,
      2,
      0.5,
      10,
      0,
      -3.25,
      7.5,
      -1,
      200,
      31,
      k,
      k + 0.125,
      0,
      0,
      5,
      12.5,
      -0.5,
      1.75,
      3,
      17,
    ]);
    const frame: Frame = {
      sceneName: 'scene-0001',
      sampleToken: `tiny-sample-${k}`,
      timestamp: t,
      egoPose,
      lidar: { calib: LIDAR_CALIB, points, timestamp: t },
      cameras: [
        {
          channel: 'CAM_FRONT',
          calib: FRONT_CALIB,
          intrinsic: INTRINSIC,
          width: 4,
          height: 3,
          image: image(k),
          timestamp: t + 10,
        },
        {
          channel: 'CAM_BACK',
          calib: BACK_CALIB,
          intrinsic: INTRINSIC,
          width: 4,
          height: 3,
          image: image(k + 7),
          timestamp: t + 20,
        },
      ],
      boxes,
      conditions: { timeOfDay: k === 2 ? 'dusk' : 'day', fog: 0.25, lidarFault: false },
    };
    if (k === 0) {
      frame.map = {
        classes: ['drivable_area', 'divider'],
        xmin: -1.6,
        ymin: -2.4,
        cell: 0.8,
        size: [2, 3],
        masks: [new Uint8Array([1, 1, 0, 0, 1, 1]), new Uint8Array([0, 1, 0, 0, 0, 1])],
      };
    }
    return frame;
  });
}
