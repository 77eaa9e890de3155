import { quatToMatrix, type CameraCalibration, type Pose } from '@bevzip/driving-data';
import type { Rgb } from './objects';
import { castRay, newHit, type BoxSet } from './raycast';
import type { Rng } from './rng';
import type { Shader } from './shading';
import type { RoadSurface } from './surface';

/** Module-scope alias: global lookups are slow inside vm contexts (jest, sandboxes), and this is hot code. */
const math = Math;

const rayCache = new WeakMap<CameraCalibration, Map<number, Float64Array>>();

/**
 * Unit ray directions in the camera frame for every pixel of the `scale`× render grid:
 * K scaled by `scale`, rays through pixel centres (u + 0.5, v + 0.5), so a scale×scale box filter
 * of the render matches the output intrinsics exactly.
 */
export function cameraRays(cam: CameraCalibration, scale: number): Float64Array {
  let byScale = rayCache.get(cam);
  if (!byScale) rayCache.set(cam, (byScale = new Map()));
  const cached = byScale.get(scale);
  if (cached) return cached;
  const [fx, , cx, , fy, cy] = cam.intrinsic;
  const w = cam.width * scale;
  const h = cam.height * scale;
  const rays = new Float64Array(w * h * 3);
  for (let v = 0; v < h; v++) {
    for (let u = 0; u < w; u++) {
      const x = ((u + 0.5) / scale - cx) / fx;
      const y = ((v + 0.5) / scale - cy) / fy;
      const n = math.hypot(x, y, 1);
      const o = (v * w + u) * 3;
      rays[o] = x / n;
      rays[o + 1] = y / n;
      rays[o + 2] = 1 / n;
    }
  }
  byScale.set(scale, rays);
  return rays;
}

/** Per-object pixel counts accumulated over cameras: visible (nearest hit) and projected (any hit). */
export interface PixelCounts {
  visible: Float64Array;
  projected: Float64Array;
}

/**
 * Ray-casts one camera whose pose `camToScene` maps camera coordinates to the scene frame.
 * Returns an RGB `height×width×3` image after box-filtering, exposure, noise σ and 8-bit rounding.
 */
export function renderCamera(
  surface: RoadSurface,
  boxes: BoxSet,
  camToScene: Pose,
  cam: CameraCalibration,
  scale: number,
  shader: Shader,
  noise: { rng: Rng; sigma: number } | null,
  counts?: PixelCounts,
): Uint8Array {
  const rays = cameraRays(cam, scale);
  const m = quatToMatrix(camToScene.rotation);
  const [ox, oy, oz] = camToScene.translation;
  const wr = cam.width * scale;
  const hr = cam.height * scale;
  const accum = new Float64Array(cam.width * cam.height * 3);
  const hit = newHit();
  const touched = counts ? new Uint8Array(boxes.objects.length) : undefined;
  const albedo: Rgb = [0, 0, 0];
  const colour: Rgb = [0, 0, 0];
  for (let v = 0; v < hr; v++) {
    for (let u = 0; u < wr; u++) {
      const r = (v * wr + u) * 3;
      const dx = m[0] * rays[r] + m[1] * rays[r + 1] + m[2] * rays[r + 2];
      const dy = m[3] * rays[r] + m[4] * rays[r + 1] + m[5] * rays[r + 2];
      const dz = m[6] * rays[r] + m[7] * rays[r + 1] + m[8] * rays[r + 2];
      if (castRay(surface, boxes, ox, oy, oz, dx, dy, dz, hit, touched)) {
        shader.albedo(hit, boxes, ox + dx * hit.t, oy + dy * hit.t, albedo);
        shader.shade(albedo, hit.nx, hit.ny, hit.nz, hit.t, colour);
      } else {
        shader.sky(dz, colour);
      }
      if (counts && touched) {
        if (hit.object >= 0) counts.visible[hit.object]++;
        for (let i = 0; i < touched.length; i++) {
          if (touched[i]) {
            counts.projected[i]++;
            touched[i] = 0;
          }
        }
      }
      const o = (math.floor(v / scale) * cam.width + math.floor(u / scale)) * 3;
      accum[o] += colour[0];
      accum[o + 1] += colour[1];
      accum[o + 2] += colour[2];
    }
  }
  const image = new Uint8Array(accum.length);
  const k = shader.gain / (scale * scale);
  for (let i = 0; i < accum.length; i++) {
    const value = accum[i] * k + (noise ? noise.rng.normal(0, noise.sigma) : 0);
    image[i] = math.round(255 * math.min(1, math.max(0, value)));
  }
  return image;
}

/** nuScenes visibility level from the visible fraction of an object's projected pixels. */
export function visibilityLevel(visible: number, projected: number): 1 | 2 | 3 | 4 {
  if (projected <= 0) return 1;
  const f = visible / projected;
  return f < 0.4 ? 1 : f < 0.6 ? 2 : f < 0.8 ? 3 : 4;
}
