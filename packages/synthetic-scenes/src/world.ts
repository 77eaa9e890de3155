import type { ObjectKind, PartBox } from './objects';
import { roadPointAt, type RoadSegment } from './road';
import type { BevRect } from './sat';
import type { RoadSurface } from './surface';
import type { DetectionClass } from '@bevzip/driving-data';

/** Module-scope alias: global lookups are slow inside vm contexts (jest, sandboxes), and this is hot code. */
const math = Math;

/** Planar pose in the scene frame. */
export interface Pose2D {
  x: number;
  y: number;
  yaw: number;
}

/** How an object moves: along a road curve at fixed lat, or in a straight line. */
export type Motion =
  | { kind: 'road'; segment: RoadSegment; s0: number; lat: number; speed: number; yawOffset: number }
  | { kind: 'linear'; x0: number; y0: number; vx: number; vy: number; yaw: number };

/** One physical object of the world; `label` is null for distractors. */
export interface SceneObject {
  kind: ObjectKind;
  label: DetectionClass | null;
  categoryName: string;
  attributeName: string;
  /** Label box l×w×h; the parts lie inside it. */
  size: [number, number, number];
  /** Height of the ground the object stands on. */
  baseZ: number;
  motion: Motion;
  parts: PartBox[];
  /** Stable index within the scene (the instance). */
  id: number;
}

/** A sampled world: ground, objects and the ego trajectory, all in the scene frame. */
export interface World {
  surface: RoadSurface;
  objects: SceneObject[];
  ego: Motion;
  template: string;
}

/** Pose of a moving thing at time t (seconds). */
export function poseAt(m: Motion, t: number): Pose2D {
  if (m.kind === 'linear') return { x: m.x0 + m.vx * t, y: m.y0 + m.vy * t, yaw: m.yaw };
  const p = roadPointAt(m.segment, m.s0 + m.speed * t, m.lat);
  return { x: p.x, y: p.y, yaw: p.heading + m.yawOffset };
}

/** Velocity (m/s) at time t, by a centred difference of the exact trajectory. */
export function velocityAt(m: Motion, t: number): [number, number] {
  if (m.kind === 'linear') return [m.vx, m.vy];
  const h = 1e-3;
  const a = poseAt(m, t - h);
  const b = poseAt(m, t + h);
  return [(b.x - a.x) / (2 * h), (b.y - a.y) / (2 * h)];
}

/** BEV footprint of an object at time t. */
export function footprintAt(o: SceneObject, t: number): BevRect {
  const p = poseAt(o.motion, t);
  return { x: p.x, y: p.y, length: o.size[0], width: o.size[1], yaw: p.yaw };
}

/** The ego vehicle's body (rear-axle origin): 4.8×2.0 m centred 1.4 m ahead of the origin. */
export function egoFootprint(ego: Pose2D): BevRect {
  return { x: ego.x + 1.4 * math.cos(ego.yaw), y: ego.y + 1.4 * math.sin(ego.yaw), length: 4.8, width: 2.0, yaw: ego.yaw };
}
