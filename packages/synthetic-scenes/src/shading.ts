import type { Rgb } from './objects';
import { MATERIAL, type Material } from './road';
import type { BoxSet, Hit } from './raycast';
import type { Lighting, SceneConditions } from './conditions';
import { mix32 } from './rng';

/** Module-scope alias: global lookups are slow inside vm contexts (jest, sandboxes), and this is hot code. */
const math = Math;
const INF = Number.POSITIVE_INFINITY;

/** LiDAR reflectivity of the ground materials (paint is retro-reflective, so it shows in intensity). */
export const GROUND_REFLECTIVITY: Record<Material, number> = {
  [MATERIAL.terrain]: 0.15,
  [MATERIAL.asphalt]: 0.1,
  [MATERIAL.sidewalk]: 0.2,
  [MATERIAL.paintWhite]: 0.6,
  [MATERIAL.paintYellow]: 0.55,
};

const GROUND_ALBEDO: Record<Material, Rgb> = {
  [MATERIAL.terrain]: [0.28, 0.38, 0.18],
  [MATERIAL.asphalt]: [0.22, 0.22, 0.23],
  [MATERIAL.sidewalk]: [0.55, 0.53, 0.5],
  [MATERIAL.paintWhite]: [0.9, 0.9, 0.88],
  [MATERIAL.paintYellow]: [0.9, 0.72, 0.12],
};

/** Exposure gain and light tint per lighting condition. */
const EXPOSURE: Record<Lighting, { gain: number; tint: Rgb; zenith: Rgb; horizon: Rgb }> = {
  day: { gain: 1, tint: [1, 1, 1], zenith: [0.3, 0.5, 0.85], horizon: [0.75, 0.82, 0.9] },
  dusk: { gain: 0.5, tint: [1, 0.8, 0.6], zenith: [0.25, 0.25, 0.45], horizon: [0.9, 0.55, 0.35] },
  night: { gain: 0.3, tint: [0.75, 0.8, 1], zenith: [0.02, 0.02, 0.06], horizon: [0.12, 0.1, 0.15] },
};

/** Bilinear value noise in [0, 1] on a lattice of the given cell size. */
export function valueNoise(x: number, y: number, cell: number, seed: number): number {
  const gx = x / cell;
  const gy = y / cell;
  const ix = math.floor(gx);
  const iy = math.floor(gy);
  const fx = gx - ix;
  const fy = gy - iy;
  const v = (i: number, j: number) => mix32(math.imul(i, 0x27d4eb2d) ^ math.imul(j, 0x165667b1) ^ seed) / 4294967296;
  const a = v(ix, iy) + (v(ix + 1, iy) - v(ix, iy)) * fx;
  const b = v(ix, iy + 1) + (v(ix + 1, iy + 1) - v(ix, iy + 1)) * fx;
  return a + (b - a) * fy;
}

/** Surface colour, lighting and atmosphere for one scene. */
export class Shader {
  private readonly sun: [number, number, number];
  private readonly light: (typeof EXPOSURE)[Lighting];

  constructor(private readonly cond: SceneConditions, private readonly textureSeed: number) {
    const ce = math.cos(cond.sunElevation);
    this.sun = [ce * math.cos(cond.sunAzimuth), ce * math.sin(cond.sunAzimuth), math.sin(cond.sunElevation)];
    this.light = EXPOSURE[cond.lighting];
  }

  /** Albedo at a hit; x, y are the scene-frame hit coordinates (ground texture). */
  albedo(hit: Hit, boxes: BoxSet, x: number, y: number, out: Rgb): void {
    if (hit.object === -1) {
      const base = GROUND_ALBEDO[hit.material];
      const n = 0.75 + 0.35 * valueNoise(x, y, 0.7, this.textureSeed) + 0.15 * valueNoise(x, y, 3.1, this.textureSeed ^ 0x9e37);
      const k = hit.material === MATERIAL.asphalt || hit.material === MATERIAL.terrain ? n : 0.5 + 0.5 * n;
      out[0] = base[0] * k;
      out[1] = base[1] * k;
      out[2] = base[2] * k;
      return;
    }
    const obj = boxes.objects[hit.object];
    const part = obj.parts[hit.part];
    const [hx, hy, hz] = [part.size[0] / 2, part.size[1] / 2, part.size[2] / 2];
    let accent = false;
    switch (part.texture) {
      case 'window-band':
        accent = math.abs(hit.nz) < 0.5 && hit.lz > -hz + 0.3 * hz && hit.lz < hz - 0.2 * hz;
        break;
      case 'side-stripes':
        accent = math.abs(hit.nz) < 0.5 && math.floor((hit.lx + hx) / 0.7) % 2 === 1;
        break;
      case 'length-stripes':
        accent = math.floor((hit.lx + hx + hit.ly + hy) / 0.35) % 2 === 1;
        break;
      case 'top-band':
        accent = hit.lz > -hz / 3 && hit.lz < hz / 3;
        break;
      case 'plain':
        break;
    }
    const c = accent ? part.accent : part.albedo;
    out[0] = c[0];
    out[1] = c[1];
    out[2] = c[2];
  }

  /** Linear radiance of a lit surface seen at distance d, before exposure. */
  shade(albedo: Rgb, nx: number, ny: number, nz: number, d: number, out: Rgb): void {
    const lambert = math.max(0, nx * this.sun[0] + ny * this.sun[1] + nz * this.sun[2]);
    const k = 0.35 + 0.65 * lambert;
    const tint = this.light.tint;
    for (let c = 0; c < 3; c++) out[c] = albedo[c] * k * tint[c];
    this.fog(d, out);
  }

  /** Sky radiance along a direction with vertical component dz. */
  sky(dz: number, out: Rgb): void {
    const a = math.min(1, math.max(0, dz * 3));
    for (let c = 0; c < 3; c++) out[c] = this.light.horizon[c] * (1 - a) + this.light.zenith[c] * a;
    this.fog(INF, out);
  }

  private fog(d: number, out: Rgb): void {
    if (!(this.cond.fogDistance > 0)) return;
    const e = math.exp(-d / this.cond.fogDistance);
    const f = this.light.horizon;
    for (let c = 0; c < 3; c++) out[c] = out[c] * e + 0.85 * (0.5 * f[c] + 0.35) * (1 - e);
  }

  /** Sensor gain of the scene's lighting. */
  get gain(): number {
    return this.light.gain;
  }
}
