import {
  composePoses,
  quatFromYaw,
  transformPoint,
  type BevGrid,
  type Box3D,
  type CameraData,
  type Frame,
  type Pose,
} from '@bevzip/driving-data';
import { conditionsRecord, sampleConditions, type SceneConditions } from './conditions';
import { renderFrame, type SceneBox } from './frame-render';
import { sampleLayout, type RoadTemplate } from './layout';
import type { MapClass } from './map-raster';
import { placeObjects } from './placement';
import { TINY_BEV_GRID, TINY_RIG, type SensorRig } from './rig';
import { hash32, hexToken, substream } from './rng';
import { RoadSurface } from './surface';
import type { Motion, World } from './world';

/**
 * Version of what the generator produces for given options. Bump it with any change that alters
 * generated frames (geometry, rendering, sampling), so caches of generated data are rebuilt.
 */
export const SYNTHETIC_GENERATOR_VERSION = 1;

/** Seconds between consecutive frames of a scene (nuScenes key-frame rate). */
export const FRAME_INTERVAL = 0.5;
/**
 * Objects are checked for overlaps over at least this many frames, so a scene's first frames are
 * the same whether 1 or up to this many frames are requested.
 */
export const PLACEMENT_HORIZON_FRAMES = 6;

/** Options of `generateScene`. */
export interface SceneOptions {
  seed: number;
  sceneIndex: number;
  /** Frames per scene, 0.5 s apart (default 3). */
  frames?: number;
  rig?: SensorRig;
  /** Map-label grid, or null for no map (default `TINY_BEV_GRID`). */
  mapGrid?: BevGrid | null;
  mapClasses?: readonly MapClass[];
  /** Overrides of the sampled scene conditions. */
  conditions?: Partial<SceneConditions>;
  /** Force a road template instead of sampling one. */
  template?: RoadTemplate;
  /** Render camera images (default true). */
  cameras?: boolean;
}

/** A sampled world with its conditions and global placement. */
export interface SampledScene {
  world: World;
  conditions: SceneConditions;
  /** Scene frame → global frame. */
  sceneToGlobal: Pose;
}

/** The sensing conditions of a scene, without rendering it (the same stream `generateScene` uses). */
export function sceneConditions(seed: number, sceneIndex: number): SceneConditions {
  return sampleConditions(substream(seed, sceneIndex, 'conditions'));
}

/**
 * Samples the world of one scene: road layout, ego trajectory, objects (non-overlapping at every
 * frame time), conditions and a random global placement. Each ingredient has its own stream.
 */
export function sampleScene(seed: number, sceneIndex: number, frames: number, template?: RoadTemplate, overrides?: Partial<SceneConditions>): SampledScene {
  const layout = sampleLayout(substream(seed, sceneIndex, 'layout'), template);
  const surface = new RoadSurface(layout.segments);
  const ego: Motion = { kind: 'road', segment: layout.main, s0: 0, lat: layout.egoLat, speed: layout.egoSpeed, yawOffset: 0 };
  const times = Array.from({ length: Math.max(frames, PLACEMENT_HORIZON_FRAMES) }, (_, k) => k * FRAME_INTERVAL);
  const objects = placeObjects(layout, surface, ego, times, substream(seed, sceneIndex, 'objects'), substream(seed, sceneIndex, 'appearance'));
  const conditions = { ...sceneConditions(seed, sceneIndex), ...overrides };
  const g = substream(seed, sceneIndex, 'global');
  const sceneToGlobal: Pose = {
    translation: [g.uniform(300, 1700), g.uniform(300, 1700), 0],
    rotation: quatFromYaw(g.uniform(-Math.PI, Math.PI)),
  };
  return { world: { surface, objects, ego, template: layout.template }, conditions, sceneToGlobal };
}

function yawOf(q: Pose['rotation']): number {
  return 2 * Math.atan2(q[3], q[0]);
}

/** A scene-frame box as a global `Box3D`. */
function toGlobalBox(b: SceneBox, sceneToGlobal: Pose, instanceId: string): Box3D {
  const gy = yawOf(sceneToGlobal.rotation);
  const c = Math.cos(gy);
  const s = Math.sin(gy);
  const yaw = Math.atan2(Math.sin(b.yaw + gy), Math.cos(b.yaw + gy));
  return {
    center: transformPoint(sceneToGlobal, b.center),
    size: [...b.object.size],
    yaw,
    velocity: [c * b.velocity[0] - s * b.velocity[1], s * b.velocity[0] + c * b.velocity[1]],
    detectionName: b.object.label!,
    categoryName: b.object.categoryName,
    attributeName: b.object.attributeName,
    numLidarPts: b.numLidarPts,
    visibility: b.visibility,
    instanceId,
  };
}

/** Scene name used for synthetic scenes. */
export function sceneName(seed: number, sceneIndex: number): string {
  return `synth-${seed}-${String(sceneIndex).padStart(4, '0')}`;
}

/**
 * Generates the frames of one deterministic synthetic scene: a world sampled from
 * hash(seed, sceneIndex, purpose) streams, rendered every 0.5 s with six cameras, the LiDAR,
 * global-frame boxes (instances persist across frames) and ego-frame map labels.
 *
 * @example
 * const frames = generateScene({ seed: 0, sceneIndex: 3, frames: 2 });
 * frames[0].cameras[0].image; // 32×88×3 RGB of CAM_FRONT
 */
export function generateScene(options: SceneOptions): Frame[] {
  const { seed, sceneIndex } = options;
  const nFrames = options.frames ?? 3;
  const rig = options.rig ?? TINY_RIG;
  const grid = options.mapGrid === undefined ? TINY_BEV_GRID : options.mapGrid;
  const scene = sampleScene(seed, sceneIndex, nFrames, options.template, options.conditions);
  const name = sceneName(seed, sceneIndex);
  const t0 = 1_600_000_000 + (hash32(seed) % 100_000) * 1000 + sceneIndex * 100;
  const textureSeed = hash32(seed, sceneIndex, 'texture');
  const frames: Frame[] = [];
  for (let k = 0; k < nFrames; k++) {
    const time = k * FRAME_INTERVAL;
    const timestamp = Math.round(1e6 * (t0 + time));
    const r = renderFrame({
      world: scene.world,
      time,
      rig,
      conditions: scene.conditions,
      textureSeed,
      lidarRng: substream(seed, sceneIndex, 'lidar', k),
      cameraRng: substream(seed, sceneIndex, 'camera', k),
      cameras: options.cameras,
      map: grid ? { grid, classes: options.mapClasses ?? ['drivable_area', 'divider'] } : null,
    });
    const cameras: CameraData[] = r.images.map(({ channel, image }, c) => ({
      channel,
      calib: rig.cameras[c].calib,
      intrinsic: rig.cameras[c].intrinsic,
      width: rig.cameras[c].width,
      height: rig.cameras[c].height,
      image,
      timestamp,
    }));
    frames.push({
      sceneName: name,
      sampleToken: hexToken(seed, 'sample', sceneIndex, k),
      timestamp,
      egoPose: composePoses(scene.sceneToGlobal, r.egoPose),
      lidar: { calib: rig.lidar.calib, points: r.lidarPoints, timestamp },
      cameras,
      boxes: r.boxes.map((b) => toGlobalBox(b, scene.sceneToGlobal, hexToken(seed, 'instance', sceneIndex, b.object.id))),
      map: r.map,
      conditions: conditionsRecord(scene.conditions, scene.world.template),
    });
  }
  return frames;
}

/** Options of `generateDataset`: `scenes` scenes of `framesPerScene` frames each. */
export interface DatasetOptions extends Omit<SceneOptions, 'sceneIndex' | 'frames'> {
  scenes: number;
  framesPerScene: number;
  /** Index of the first scene (default 0), so datasets can be split without overlap. */
  firstScene?: number;
}

/** Lazily generates the frames of scenes firstScene … firstScene + scenes − 1, in order. */
export function* generateDataset(options: DatasetOptions): Generator<Frame> {
  const first = options.firstScene ?? 0;
  for (let i = first; i < first + options.scenes; i++) {
    yield* generateScene({ ...options, sceneIndex: i, frames: options.framesPerScene });
  }
}
