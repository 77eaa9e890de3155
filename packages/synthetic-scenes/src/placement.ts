import type { Layout } from './layout';
import { OBJECT_SPECS, buildParts, sampleSize, type ObjectKind } from './objects';
import { roadEdges, roadPointAt, type RoadSegment } from './road';
import type { Rng } from './rng';
import { rectsOverlap } from './sat';
import type { RoadSurface } from './surface';
import { egoFootprint, footprintAt, poseAt, type Motion, type SceneObject } from './world';

/** Module-scope alias: global lookups are slow inside vm contexts (jest, sandboxes), and this is hot code. */
const math = Math;

/** Minimum clearance between any two footprints (and the ego), metres. */
export const PLACEMENT_MARGIN = 0.3;
const DEG = math.PI / 180;

/** Accumulates objects, rejecting any whose footprint overlaps another (or the ego) at any frame time. */
export class Placer {
  readonly objects: SceneObject[] = [];

  constructor(
    private readonly surface: RoadSurface,
    private readonly ego: Motion,
    private readonly times: number[],
    private readonly appearance: Rng,
  ) {}

  /** Adds the object if it is clear at every frame time and stays on one ground level; returns success. */
  add(kind: ObjectKind, size: [number, number, number], motion: Motion, attributeName: string, withRider = true): boolean {
    const spec = OBJECT_SPECS[kind];
    const candidate: SceneObject = {
      kind,
      label: spec.label,
      categoryName: spec.category,
      attributeName,
      size,
      baseZ: 0,
      motion,
      parts: [],
      id: this.objects.length,
    };
    let baseZ = -1;
    for (const t of this.times) {
      const rect = footprintAt(candidate, t);
      const z = this.surface.heightAt(rect.x, rect.y);
      if (baseZ >= 0 && z !== baseZ) return false;
      baseZ = z;
      if (rectsOverlap(rect, egoFootprint(poseAt(this.ego, t)), PLACEMENT_MARGIN)) return false;
      for (const o of this.objects) if (rectsOverlap(rect, footprintAt(o, t), PLACEMENT_MARGIN)) return false;
    }
    candidate.baseZ = baseZ;
    candidate.parts = buildParts(kind, size, this.appearance, withRider);
    this.objects.push(candidate);
    return true;
  }
}

function roadMotion(segment: RoadSegment, s0: number, lat: number, speed: number, yawOffset: number): Motion {
  return { kind: 'road', segment, s0, lat, speed, yawOffset };
}

/** Vehicles spaced by a Poisson process along every lane; each lane has one flow speed (0 = queued). */
function placeLaneTraffic(p: Placer, seg: RoadSegment, rng: Rng, sRange: [number, number]): void {
  const lanes: { lat: number; dir: 1 | -1 }[] = [];
  for (let i = 0; i < seg.lanesRight; i++) lanes.push({ lat: -(i + 0.5) * seg.laneWidth, dir: 1 });
  for (let i = 0; i < seg.lanesLeft; i++) lanes.push({ lat: (i + 0.5) * seg.laneWidth, dir: -1 });
  for (const lane of lanes) {
    const flow = rng.chance(0.2) ? 0 : rng.uniform(2, 15);
    let s = sRange[0] + rng.exponential(8);
    while (s < sRange[1]) {
      const kind: ObjectKind = rng.chance(0.2) ? 'truck' : 'car';
      const size = sampleSize(kind, rng);
      const yawNoise = rng.normal(0, 3 * DEG);
      const attr = flow > 0.2 ? 'vehicle.moving' : 'vehicle.stopped';
      p.add(kind, size, roadMotion(seg, s + size[0] / 2, lane.lat + rng.normal(0, 0.15), lane.dir * flow, (lane.dir < 0 ? math.PI : 0) + yawNoise), attr);
      s += size[0] + 3 + rng.exponential(20);
    }
  }
}

/** Cars parked against the curbs, facing the traffic direction of their side. */
function placeParked(p: Placer, seg: RoadSegment, rng: Rng, sRange: [number, number]): void {
  const [right, left] = roadEdges(seg);
  for (const side of [-1, 1] as const) {
    if (!rng.chance(0.4)) continue;
    let s = sRange[0] + rng.exponential(6);
    while (s < sRange[1]) {
      const kind: ObjectKind = rng.chance(0.1) ? 'truck' : 'car';
      const size = sampleSize(kind, rng);
      const lat = side < 0 ? right + size[1] / 2 + 0.25 : left - size[1] / 2 - 0.25;
      p.add(kind, size, roadMotion(seg, s + size[0] / 2, lat, 0, (side > 0 ? math.PI : 0) + rng.normal(0, 2 * DEG)), 'vehicle.parked');
      s += size[0] + 1 + rng.exponential(8);
    }
  }
}

/** A lateral offset on the sidewalk band of one side, at least `inset` from either edge of it. */
function sidewalkLat(seg: RoadSegment, rng: Rng, inset: number): number {
  const [right, left] = roadEdges(seg);
  const off = rng.uniform(inset, math.max(inset, seg.sidewalkWidth - inset));
  return rng.chance(0.5) ? right - off : left + off;
}

/** Pedestrians, cyclists, work zones and distractors. */
function placeVulnerable(p: Placer, layout: Layout, rng: Rng): void {
  const segs = layout.segments;
  const nPed = rng.int(4, 12);
  for (let k = 0; k < nPed; k++) {
    const seg = rng.pick(segs);
    const size = sampleSize('pedestrian', rng);
    const crossing = seg.crossings.length > 0 && rng.chance(0.35);
    if (crossing) {
      const [right, left] = roadEdges(seg);
      const sc = rng.pick(seg.crossings) + rng.uniform(-1, 1);
      const at = roadPointAt(seg, sc, rng.uniform(right + 0.5, left - 0.5));
      const speed = rng.uniform(0.6, 1.8) * (rng.chance(0.5) ? 1 : -1);
      const dir = at.heading + math.PI / 2;
      const motion: Motion = { kind: 'linear', x0: at.x, y0: at.y, vx: speed * math.cos(dir), vy: speed * math.sin(dir), yaw: speed > 0 ? dir : dir + math.PI };
      p.add('pedestrian', size, motion, 'pedestrian.moving');
      continue;
    }
    const standing = rng.chance(0.35);
    const speed = standing ? 0 : rng.uniform(0.5, 1.8) * (rng.chance(0.5) ? 1 : -1);
    const yawOffset = standing ? rng.uniform(-math.PI, math.PI) : speed > 0 ? 0 : math.PI;
    const motion = roadMotion(seg, rng.uniform(-28, 28), sidewalkLat(seg, rng, 0.45), speed, yawOffset);
    p.add('pedestrian', size, motion, standing ? 'pedestrian.standing' : 'pedestrian.moving');
  }
  const nBike = rng.int(0, 3);
  for (let k = 0; k < nBike; k++) {
    const seg = rng.pick(segs);
    const [right, left] = roadEdges(seg);
    if (rng.chance(0.3)) {
      const size = sampleSize('bicycle', rng);
      size[2] *= 0.65;
      p.add('bicycle', size, roadMotion(seg, rng.uniform(-25, 25), sidewalkLat(seg, rng, 0.5), 0, rng.chance(0.5) ? 0 : math.PI), 'cycle.without_rider', false);
      continue;
    }
    const side = seg.lanesLeft > 0 && rng.chance(0.4) ? 1 : -1;
    const speed = rng.uniform(2, 6);
    const lat = side < 0 ? right + 0.8 : left - 0.8;
    p.add('bicycle', sampleSize('bicycle', rng), roadMotion(seg, rng.uniform(-25, 25), lat, -side * speed, side > 0 ? math.PI : 0), 'cycle.with_rider');
  }
  if (rng.chance(0.45)) placeWorkZone(p, layout.main, rng);
  const nPole = rng.int(2, 7);
  for (let k = 0; k < nPole; k++) {
    const seg = rng.pick(segs);
    p.add('pole', sampleSize('pedestrian', rng), roadMotion(seg, rng.uniform(-28, 28), sidewalkLat(seg, rng, 0.45), 0, rng.uniform(-math.PI, math.PI)), '');
  }
  const nBin = rng.int(0, 3);
  for (let k = 0; k < nBin; k++) {
    const seg = rng.pick(segs);
    p.add('bin', sampleSize('bin', rng), roadMotion(seg, rng.uniform(-28, 28), sidewalkLat(seg, rng, 0.4), 0, rng.uniform(-0.3, 0.3)), '');
  }
}

/** A row of cones along one carriageway edge, optionally backed by a row of barriers. */
function placeWorkZone(p: Placer, seg: RoadSegment, rng: Rng): void {
  const [right, left] = roadEdges(seg);
  const side = seg.lanesLeft > 0 && rng.chance(0.5) ? 1 : -1;
  const edge = side < 0 ? right : left;
  const s0 = rng.uniform(-22, 12);
  const length = rng.uniform(8, 18);
  const yawBase = side > 0 ? math.PI : 0;
  for (let s = s0; s < s0 + length; s += rng.uniform(2, 3)) {
    p.add('traffic_cone', sampleSize('traffic_cone', rng), roadMotion(seg, s, edge - side * 1.6, 0, rng.uniform(-math.PI, math.PI)), '');
  }
  if (!rng.chance(0.6)) return;
  for (let s = s0 + 1; s < s0 + length; s += 2.6) {
    p.add('barrier', sampleSize('barrier', rng), roadMotion(seg, s, edge - side * 0.55, 0, yawBase + rng.normal(0, 2 * DEG)), '');
  }
}

/**
 * Places all objects of a scene by the spec's rules: lane traffic and curb parking on every
 * segment, pedestrians on sidewalks and crossings, cyclists, an optional work zone, and
 * unlabelled poles and bins. Objects start within about ±30 m of the ego.
 */
export function placeObjects(layout: Layout, surface: RoadSurface, ego: Motion, times: number[], rng: Rng, appearance: Rng): SceneObject[] {
  const p = new Placer(surface, ego, times, appearance);
  // Vulnerable road users and work zones first: they are sparse, so traffic fills around them.
  placeVulnerable(p, layout, rng);
  for (const seg of layout.segments) {
    const centre = seg === layout.main ? 0 : -seg.origin[1];
    const range: [number, number] = [centre - 30, centre + 30];
    placeParked(p, seg, rng, range);
    placeLaneTraffic(p, seg, rng, range);
  }
  return p.objects;
}
