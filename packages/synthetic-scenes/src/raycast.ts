import { CURB_HEIGHT, MATERIAL, type Material } from './road';
import { isRaised, type RoadSurface } from './surface';
import { poseAt, type SceneObject } from './world';

/** Module-scope alias: global lookups are slow inside vm contexts (jest, sandboxes), and this is hot code. */
const math = Math;
const INF = Number.POSITIVE_INFINITY;

/** Floats per box in `BoxSet.data`: centre (3), cos yaw, sin yaw, half sizes (3). */
export const BOX_STRIDE = 8;
const STRIDE = BOX_STRIDE;

/** The boxes of all objects at one instant, packed for ray casting. */
export interface BoxSet {
  /** Part boxes, `STRIDE` floats each. */
  parts: Float64Array;
  /** Per object: its label box (the cull volume), `STRIDE` floats each. */
  hulls: Float64Array;
  /** Per object: index of its first part and number of parts. */
  firstPart: Int32Array;
  partCount: Int32Array;
  objects: SceneObject[];
}

function pack(out: Float64Array, k: number, cx: number, cy: number, cz: number, yaw: number, size: readonly number[]): void {
  const o = k * STRIDE;
  out[o] = cx;
  out[o + 1] = cy;
  out[o + 2] = cz;
  out[o + 3] = math.cos(yaw);
  out[o + 4] = math.sin(yaw);
  out[o + 5] = size[0] / 2;
  out[o + 6] = size[1] / 2;
  out[o + 7] = size[2] / 2;
}

/** Packs the objects' label boxes and parts at time t (scene frame). */
export function buildBoxSet(objects: SceneObject[], t: number): BoxSet {
  const nParts = objects.reduce((n, o) => n + o.parts.length, 0);
  const set: BoxSet = {
    parts: new Float64Array(nParts * STRIDE),
    hulls: new Float64Array(objects.length * STRIDE),
    firstPart: new Int32Array(objects.length),
    partCount: new Int32Array(objects.length),
    objects,
  };
  let k = 0;
  objects.forEach((o, i) => {
    const p = poseAt(o.motion, t);
    const c = math.cos(p.yaw);
    const s = math.sin(p.yaw);
    pack(set.hulls, i, p.x, p.y, o.baseZ + o.size[2] / 2, p.yaw, o.size);
    set.firstPart[i] = k;
    set.partCount[i] = o.parts.length;
    for (const part of o.parts) {
      const [lx, ly, lz] = part.center;
      pack(set.parts, k++, p.x + c * lx - s * ly, p.y + s * lx + c * ly, o.baseZ + lz, p.yaw, part.size);
    }
  });
  return set;
}

/** Result of a ray cast; `object` is −1 for ground hits and −2 for misses (sky). */
export interface Hit {
  t: number;
  object: number;
  part: number;
  material: Material;
  nx: number;
  ny: number;
  nz: number;
  /** Hit point in the part's local frame (for textures). */
  lx: number;
  ly: number;
  lz: number;
}

/** A fresh, empty hit record. */
export function newHit(): Hit {
  return { t: INF, object: -2, part: -1, material: MATERIAL.terrain, nx: 0, ny: 0, nz: 1, lx: 0, ly: 0, lz: 0 };
}

/**
 * Slab test of a ray against box k of `data`; returns the entry distance (∞ on a miss or when the
 * origin is inside) and, when `hit` is given, fills its normal and local hit point.
 */
export function slabTest(data: Float64Array, k: number, ox: number, oy: number, oz: number, dx: number, dy: number, dz: number, hit?: Hit): number {
  const o = k * STRIDE;
  const c = data[o + 3];
  const s = data[o + 4];
  const px = ox - data[o];
  const py = oy - data[o + 1];
  const pz = oz - data[o + 2];
  const l0 = c * px + s * py;
  const l1 = -s * px + c * py;
  const d0 = c * dx + s * dy;
  const d1 = -s * dx + c * dy;
  let tNear = -INF;
  let tFar = INF;
  let axis = 0;
  // Unrolled over the three slabs: this is the innermost loop of both renderers.
  for (let a = 0; a < 3; a++) {
    const h = data[o + 5 + a];
    const la = a === 0 ? l0 : a === 1 ? l1 : pz;
    const da = a === 0 ? d0 : a === 1 ? d1 : dz;
    if (da > -1e-12 && da < 1e-12) {
      if (la < -h || la > h) return INF;
      continue;
    }
    const inv = 1 / da;
    let t1 = (-h - la) * inv;
    let t2 = (h - la) * inv;
    if (t1 > t2) {
      const tmp = t1;
      t1 = t2;
      t2 = tmp;
    }
    if (t1 > tNear) {
      tNear = t1;
      axis = a;
    }
    if (t2 < tFar) tFar = t2;
    if (tNear > tFar) return INF;
  }
  if (tNear <= 1e-9) return INF;
  if (hit) {
    const sign = (axis === 0 ? d0 : axis === 1 ? d1 : dz) > 0 ? -1 : 1;
    hit.nx = axis === 0 ? c * sign : axis === 1 ? -s * sign : 0;
    hit.ny = axis === 0 ? s * sign : axis === 1 ? c * sign : 0;
    hit.nz = axis === 2 ? sign : 0;
    hit.lx = l0 + d0 * tNear;
    hit.ly = l1 + d1 * tNear;
    hit.lz = pz + dz * tNear;
  }
  return tNear;
}

/**
 * Nearest intersection with the two-level ground: the raised plane z = 0.15 where the material
 * is raised, the carriageway z = 0 elsewhere, and the vertical curb faces between them.
 */
export function castGround(surface: RoadSurface, ox: number, oy: number, oz: number, dx: number, dy: number, dz: number, hit: Hit): boolean {
  if (dz >= -1e-9) return false;
  const tHigh = (oz - CURB_HEIGHT) / -dz;
  const mHigh = surface.materialAt(ox + dx * tHigh, oy + dy * tHigh);
  if (isRaised(mHigh)) return setGround(hit, tHigh, mHigh, 0, 0, 1);
  const tLow = oz / -dz;
  // Between the two planes the ray may enter a raised region through a curb face: march, then bisect.
  const horiz = (tLow - tHigh) * math.hypot(dx, dy);
  const steps = math.min(24, math.max(1, math.ceil(horiz / 0.4)));
  let prev = tHigh;
  for (let i = 1; i <= steps; i++) {
    const ti = tHigh + ((tLow - tHigh) * i) / steps;
    const m = surface.materialAt(ox + dx * ti, oy + dy * ti);
    if (!isRaised(m)) {
      if (i === steps) return setGround(hit, tLow, m, 0, 0, 1);
      prev = ti;
      continue;
    }
    let a = prev;
    let b = ti;
    for (let it = 0; it < 7; it++) {
      const mid = (a + b) / 2;
      if (isRaised(surface.materialAt(ox + dx * mid, oy + dy * mid))) b = mid;
      else a = mid;
    }
    const h = math.hypot(dx, dy);
    return setGround(hit, b, MATERIAL.sidewalk, -dx / h, -dy / h, 0);
  }
  return false;
}

function setGround(hit: Hit, t: number, m: Material, nx: number, ny: number, nz: number): true {
  hit.t = t;
  hit.object = -1;
  hit.part = -1;
  hit.material = m;
  hit.nx = nx;
  hit.ny = ny;
  hit.nz = nz;
  return true;
}

/**
 * Casts one ray (unit direction) against ground and boxes; the nearest hit wins. When `touched`
 * is given, every object whose parts the ray meets (occluded or not) gets its entry set to 1.
 */
export function castRay(
  surface: RoadSurface,
  boxes: BoxSet,
  ox: number, oy: number, oz: number,
  dx: number, dy: number, dz: number,
  hit: Hit,
  touched?: Uint8Array,
): boolean {
  hit.t = INF;
  hit.object = -2;
  castGround(surface, ox, oy, oz, dx, dy, dz, hit);
  const n = boxes.objects.length;
  for (let i = 0; i < n; i++) {
    const tHull = slabTest(boxes.hulls, i, ox, oy, oz, dx, dy, dz);
    if (tHull === INF || (!touched && tHull >= hit.t)) continue;
    const first = boxes.firstPart[i];
    for (let k = first; k < first + boxes.partCount[i]; k++) {
      const t = slabTest(boxes.parts, k, ox, oy, oz, dx, dy, dz);
      if (t === INF) continue;
      if (touched) touched[i] = 1;
      if (t < hit.t) {
        slabTest(boxes.parts, k, ox, oy, oz, dx, dy, dz, hit);
        hit.t = t;
        hit.object = i;
        hit.part = k - first;
      }
    }
  }
  return hit.object !== -2;
}
