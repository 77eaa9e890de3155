import {
  composePoses,
  quatFromYaw,
  type BevGrid,
  type CameraChannel,
  type MapLabels,
  type Pose,
} from '@bevzip/driving-data';
import { renderCamera, visibilityLevel, type PixelCounts } from './camera-render';
import type { SceneConditions } from './conditions';
import { countPointsInBoxes, renderLidar } from './lidar-render';
import { rasterizeMap, type MapClass } from './map-raster';
import { buildBoxSet } from './raycast';
import type { SensorRig } from './rig';
import type { Rng } from './rng';
import { Shader } from './shading';
import { poseAt, velocityAt, type Pose2D, type SceneObject, type World } from './world';

/** What to render for one instant of a world. */
export interface RenderRequest {
  world: World;
  /** Seconds since the first frame. */
  time: number;
  rig: SensorRig;
  conditions: SceneConditions;
  /** Seed of the ground's value-noise texture. */
  textureSeed: number;
  lidarRng: Rng;
  /** Camera noise stream; null renders noise-free images (for tests). */
  cameraRng: Rng | null;
  cameras?: boolean;
  map?: { grid: BevGrid; classes: readonly MapClass[] } | null;
}

/** A labelled object at one instant, in the scene frame. */
export interface SceneBox {
  object: SceneObject;
  center: [number, number, number];
  yaw: number;
  velocity: [number, number];
  numLidarPts: number;
  visibility: 1 | 2 | 3 | 4;
}

/** One rendered instant in the scene frame (no global pose applied yet). */
export interface RenderedFrame {
  ego: Pose2D;
  /** Ego → scene frame. */
  egoPose: Pose;
  lidarPoints: Float32Array;
  images: { channel: CameraChannel; image: Uint8Array }[];
  boxes: SceneBox[];
  map?: MapLabels;
}

/** A planar pose as a 3D pose (z = 0). */
export function pose2DTo3D(p: Pose2D): Pose {
  return { translation: [p.x, p.y, 0], rotation: quatFromYaw(p.yaw) };
}

/** Ray-casts the LiDAR and (optionally) the cameras at `time`, and derives the labels. */
export function renderFrame(req: RenderRequest): RenderedFrame {
  const { world, time, rig } = req;
  const ego = poseAt(world.ego, time);
  const egoPose = pose2DTo3D(ego);
  const boxes = buildBoxSet(world.objects, time);
  const lidarPose = composePoses(egoPose, rig.lidar.calib);
  const lidarPoints = renderLidar(world.surface, boxes, lidarPose, rig.lidar, req.conditions, req.lidarRng);
  const numPts = countPointsInBoxes(lidarPoints, lidarPose, boxes);
  const counts: PixelCounts = {
    visible: new Float64Array(world.objects.length),
    projected: new Float64Array(world.objects.length),
  };
  const images: RenderedFrame['images'] = [];
  if (req.cameras !== false) {
    const shader = new Shader(req.conditions, req.textureSeed);
    const noise = req.cameraRng ? { rng: req.cameraRng, sigma: req.conditions.cameraNoise } : null;
    for (const cam of rig.cameras) {
      const camPose = composePoses(egoPose, cam.calib);
      const image = renderCamera(world.surface, boxes, camPose, cam, rig.renderScale, shader, noise, counts);
      images.push({ channel: cam.channel, image });
    }
  }
  const labelled: SceneBox[] = [];
  world.objects.forEach((o, i) => {
    if (!o.label) return;
    const p = poseAt(o.motion, time);
    labelled.push({
      object: o,
      center: [p.x, p.y, o.baseZ + o.size[2] / 2],
      yaw: p.yaw,
      velocity: velocityAt(o.motion, time),
      numLidarPts: numPts[i],
      visibility: visibilityLevel(counts.visible[i], counts.projected[i]),
    });
  });
  const map = req.map ? rasterizeMap(world.surface, ego, req.map.grid, req.map.classes) : undefined;
  return { ego, egoPose, lidarPoints, images, boxes: labelled, map };
}
