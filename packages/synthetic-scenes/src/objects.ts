import type { DetectionClass } from '@bevzip/driving-data';
import type { Rng } from './rng';

/** Labelled classes the generator places, plus unlabelled distractors. */
export type ObjectKind = 'car' | 'truck' | 'pedestrian' | 'bicycle' | 'traffic_cone' | 'barrier' | 'pole' | 'bin';

export type Rgb = [number, number, number];

/** Camera texture of a part; all are computed from the box-local hit point. */
export type PartTexture = 'plain' | 'window-band' | 'side-stripes' | 'length-stripes' | 'top-band';

/** One sub-box of an object, in the object frame (origin at the bottom centre, x along length). */
export interface PartBox {
  /** Centre of the part in the object frame. */
  center: [number, number, number];
  size: [number, number, number];
  albedo: Rgb;
  /** Second colour used by striped or banded textures. */
  accent: Rgb;
  texture: PartTexture;
  reflectivity: number;
}

/** Nominal l×w×h (metres) and nuScenes category of each kind. */
export const OBJECT_SPECS: Record<ObjectKind, { size: [number, number, number]; label: DetectionClass | null; category: string }> = {
  car: { size: [4.6, 1.95, 1.7], label: 'car', category: 'vehicle.car' },
  truck: { size: [7, 2.5, 3], label: 'truck', category: 'vehicle.truck' },
  pedestrian: { size: [0.7, 0.65, 1.75], label: 'pedestrian', category: 'human.pedestrian.adult' },
  bicycle: { size: [1.8, 0.6, 1.7], label: 'bicycle', category: 'vehicle.bicycle' },
  traffic_cone: { size: [0.4, 0.4, 0.7], label: 'traffic_cone', category: 'movable_object.trafficcone' },
  barrier: { size: [2.0, 0.5, 1.0], label: 'barrier', category: 'movable_object.barrier' },
  pole: { size: [0.7, 0.65, 1.75], label: null, category: '' },
  bin: { size: [0.6, 0.6, 1.0], label: null, category: '' },
};

/**
 * Parts are inset this far from the label box on the sides and top, so LiDAR returns from outer
 * faces (with 2 cm range noise) fall inside the label box as annotators' boxes enclose them.
 */
export const PART_INSET = 0.04;

const CAR_COLOURS: Rgb[] = [
  [0.85, 0.85, 0.85], [0.6, 0.62, 0.65], [0.08, 0.08, 0.09], [0.7, 0.08, 0.07],
  [0.1, 0.2, 0.55], [0.3, 0.32, 0.34], [0.75, 0.68, 0.5], [0.15, 0.4, 0.2],
];
const TRUCK_COLOURS: Rgb[] = [[0.9, 0.9, 0.88], [0.9, 0.75, 0.1], [0.15, 0.3, 0.6], [0.2, 0.45, 0.25]];
const TRUCK_STRIPES: Rgb[] = [[0.8, 0.1, 0.08], [0.95, 0.5, 0.05], [0.05, 0.1, 0.3]];
const TROUSERS: Rgb[] = [[0.08, 0.12, 0.3], [0.05, 0.05, 0.05], [0.35, 0.22, 0.1], [0.6, 0.55, 0.4]];
const SHIRTS: Rgb[] = [
  [0.8, 0.1, 0.1], [0.1, 0.6, 0.2], [0.95, 0.8, 0.1], [0.15, 0.35, 0.85], [0.95, 0.95, 0.95], [0.9, 0.45, 0.6], [0.95, 0.5, 0.1],
];
const SKIN: Rgb[] = [[0.95, 0.78, 0.65], [0.8, 0.6, 0.45], [0.55, 0.38, 0.25], [0.35, 0.22, 0.15]];
const WINDOW: Rgb = [0.05, 0.07, 0.1];
const WHITE: Rgb = [0.92, 0.92, 0.92];

function part(
  center: [number, number, number],
  size: [number, number, number],
  albedo: Rgb,
  reflectivity: number,
  texture: PartTexture = 'plain',
  accent: Rgb = albedo,
): PartBox {
  return { center, size, albedo, accent, texture, reflectivity };
}

/** Box spanning z ∈ [z0, z1] with the given footprint, centred at x offset `dx`. */
function slab(dx: number, l: number, w: number, z0: number, z1: number): { c: [number, number, number]; s: [number, number, number] } {
  return { c: [dx, 0, (z0 + z1) / 2], s: [l, w, z1 - z0] };
}

/** Human body parts (legs, torso, head) shared by pedestrians and poles, so LiDAR cannot tell them apart. */
function humanParts(l: number, w: number, h: number, colours: [Rgb, Rgb, Rgb], reflectivity: number): PartBox[] {
  const e = PART_INSET;
  const legs = slab(0, 0.55 * (l - 2 * e), 0.75 * (w - 2 * e), 0, 0.47 * h);
  const torso = slab(0, l - 2 * e, w - 2 * e, 0.47 * h, 0.84 * h);
  const head = slab(0, 0.4 * (l - 2 * e), 0.4 * (w - 2 * e), 0.84 * h, h - e);
  return [
    part(legs.c, legs.s, colours[0], reflectivity),
    part(torso.c, torso.s, colours[1], reflectivity),
    part(head.c, head.s, colours[2], reflectivity),
  ];
}

/**
 * The sub-boxes of one object of size l×w×h. Appearance draws come from `rng` (the appearance
 * stream), so changing a palette never moves the layout.
 */
export function buildParts(kind: ObjectKind, size: [number, number, number], rng: Rng, withRider = true): PartBox[] {
  const [l, w, h] = size;
  const e = PART_INSET;
  const li = l - 2 * e;
  const wi = w - 2 * e;
  switch (kind) {
    case 'car': {
      const colour = rng.pick(CAR_COLOURS);
      const refl = rng.uniform(0.3, 0.5);
      const body = slab(0, li, wi, 0.12, 0.55 * h);
      const cabin = slab(-0.05 * l, 0.55 * l, wi - 0.1, 0.55 * h, h - e);
      return [part(body.c, body.s, colour, refl), part(cabin.c, cabin.s, colour, refl, 'window-band', WINDOW)];
    }
    case 'truck': {
      const colour = rng.pick(TRUCK_COLOURS);
      const stripe = rng.pick(TRUCK_STRIPES);
      const refl = rng.uniform(0.3, 0.5);
      const cabL = 0.24 * li;
      const boxL = li - cabL - 0.1;
      const cab = slab(li / 2 - cabL / 2, cabL, wi, 0.2, 0.75 * h);
      const box = slab(-li / 2 + boxL / 2, boxL, wi, 0.35, h - e);
      return [part(cab.c, cab.s, colour, refl, 'window-band', WINDOW), part(box.c, box.s, colour, refl, 'side-stripes', stripe)];
    }
    case 'pedestrian':
      return humanParts(l, w, h, [rng.pick(TROUSERS), rng.pick(SHIRTS), rng.pick(SKIN)], 0.25);
    case 'pole': {
      const g = rng.uniform(0.45, 0.6);
      const grey: Rgb = [g, g, g];
      return humanParts(l, w, h, [grey, grey, grey], 0.25);
    }
    case 'bicycle': {
      const frameColour = rng.pick<Rgb>([[0.05, 0.05, 0.05], [0.7, 0.1, 0.1], [0.1, 0.25, 0.7], [0.85, 0.85, 0.85]]);
      const frameTop = withRider ? 0.55 * h : h - e;
      const frame = slab(0, li, 0.25 * wi, 0, frameTop);
      const parts = [part(frame.c, frame.s, frameColour, 0.35)];
      if (withRider) {
        const torso = slab(-0.05 * l, 0.45, wi, 0.5 * h, 0.86 * h);
        const head = slab(-0.05 * l, 0.22, 0.22, 0.86 * h, h - e);
        parts.push(part(torso.c, torso.s, rng.pick(SHIRTS), 0.25), part(head.c, head.s, rng.pick(SKIN), 0.25));
      }
      return parts;
    }
    case 'traffic_cone': {
      const orange: Rgb = [1.0, 0.42, 0.05];
      const base = slab(0, li, wi, 0, 0.22 * h);
      const top = slab(0, 0.55 * li, 0.55 * wi, 0.22 * h, h - e);
      return [part(base.c, base.s, orange, 0.6), part(top.c, top.s, orange, 0.6, 'top-band', WHITE)];
    }
    case 'barrier': {
      const panel = slab(0, li, wi, 0, h - e);
      return [part(panel.c, panel.s, [0.85, 0.1, 0.08], 0.5, 'length-stripes', WHITE)];
    }
    case 'bin': {
      const g = rng.uniform(0.2, 0.35);
      const body = slab(0, li, wi, 0, h - e);
      return [part(body.c, body.s, [g, g * 1.1, g], 0.2)];
    }
  }
}

/** Sampled l×w×h: the nominal size of `kind` scaled per axis by U(0.9, 1.1). */
export function sampleSize(kind: ObjectKind, rng: Rng): [number, number, number] {
  const [l, w, h] = OBJECT_SPECS[kind].size;
  return [l * rng.uniform(0.9, 1.1), w * rng.uniform(0.9, 1.1), h * rng.uniform(0.9, 1.1)];
}
