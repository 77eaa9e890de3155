import {
  cameraCalib,
  pinholeIntrinsic,
  quatFromYaw,
  type BevGrid,
  type CameraChannel,
  type CameraData,
  type Pose,
} from '@bevzip/driving-data';

/** A spinning multi-beam LiDAR. */
export interface RigLidar {
  /** LIDAR_TOP → ego. */
  calib: Pose;
  beams: number;
  elevationMinDeg: number;
  elevationMaxDeg: number;
  azimuthStepDeg: number;
  minRange: number;
  maxRange: number;
}

/** Cameras, LiDAR, and the supersampling factor used when rendering images. */
export interface SensorRig {
  /** Each camera's channel and calibration, intrinsics at output resolution. */
  cameras: Omit<CameraData, 'image' | 'timestamp'>[];
  lidar: RigLidar;
  /** Images are ray-cast at `renderScale`× the output size per axis and box-filtered down. */
  renderScale: number;
}

/** The map-label and model grid of `bevf-tiny`: 64×64 cells of 0.8 m over [−25.6, 25.6)². */
export const TINY_BEV_GRID: BevGrid = { xmin: -25.6, ymin: -25.6, cell: 0.8, size: [64, 64] };

const DEG = Math.PI / 180;

const TINY_CAMERA_LAYOUT: [CameraChannel, number][] = [
  ['CAM_FRONT', 0],
  ['CAM_FRONT_RIGHT', -60],
  ['CAM_FRONT_LEFT', 60],
  ['CAM_BACK', 180],
  ['CAM_BACK_LEFT', 120],
  ['CAM_BACK_RIGHT', -120],
];

/** Cameras sit on a 0.7 m ring around a point 1 m ahead of the rear axle (the ego origin). */
function tinyCamera(channel: CameraChannel, yawDeg: number): SensorRig['cameras'][number] {
  const t: [number, number, number] = [1 + 0.7 * Math.cos(yawDeg * DEG), 0.7 * Math.sin(yawDeg * DEG), 1.6];
  return { channel, calib: cameraCalib(yawDeg, 3, t), intrinsic: pinholeIntrinsic(88, 32, 70), width: 88, height: 32 };
}

/**
 * The `bevf-tiny` sensor rig: six 88×32 cameras (HFOV 70°, 3° down, 1.6 m high) in MIT channel
 * order, and a 32-beam LiDAR at 1.84 m whose frame is x-right / y-forward as nuScenes' LIDAR_TOP
 * (a −90° yaw relative to the ego).
 */
export const TINY_RIG: SensorRig = {
  cameras: TINY_CAMERA_LAYOUT.map(([channel, yaw]) => tinyCamera(channel, yaw)),
  lidar: {
    calib: { translation: [0.94, 0, 1.84], rotation: quatFromYaw(-Math.PI / 2) },
    beams: 32,
    elevationMinDeg: -30.67,
    elevationMaxDeg: 10.67,
    azimuthStepDeg: 0.5,
    minRange: 1,
    maxRange: 70,
  },
  renderScale: 2,
};
