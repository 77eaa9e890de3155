import { quatToMatrix, type Pose } from '@bevzip/driving-data';
import type { SceneConditions } from './conditions';
import { BOX_STRIDE, castRay, newHit, type BoxSet } from './raycast';
import type { RigLidar } from './rig';
import type { Rng } from './rng';
import { GROUND_REFLECTIVITY } from './shading';
import type { RoadSurface } from './surface';

/** Module-scope alias: global lookups are slow inside vm contexts (jest, sandboxes), and this is hot code. */
const math = Math;

/** Floats per LiDAR point: x, y, z, intensity, ring. */
export const POINT_STRIDE = 5;
const DEG = math.PI / 180;
export const RANGE_NOISE_SIGMA = 0.02;

/** The LiDAR-related subset of the scene conditions. */
export type LidarConditions = Pick<SceneConditions, 'lidarDropout' | 'lidarFovDeg' | 'lidarSparse' | 'objectPointDrop'>;

/** Elevation (radians) of each beam, lowest first; beams are evenly spaced. */
export function beamElevations(lidar: RigLidar): number[] {
  const step = (lidar.elevationMaxDeg - lidar.elevationMinDeg) / (lidar.beams - 1);
  return Array.from({ length: lidar.beams }, (_, b) => (lidar.elevationMinDeg + b * step) * DEG);
}

/**
 * Ray-casts one LiDAR sweep. `sensorToScene` maps the sensor frame (x right, y forward for
 * LIDAR_TOP) to the scene frame. Returns float32×5 points (x, y, z, intensity, ring) in the sensor
 * frame: range noise N(0, 2 cm), kept for minRange < r < maxRange, dropped with probability
 * dropout + 0.05 on dark surfaces + 0.1·(1 − |cos θ|)², intensity 255·reflectivity·|cos θ|.
 */
export function renderLidar(
  surface: RoadSurface,
  boxes: BoxSet,
  sensorToScene: Pose,
  lidar: RigLidar,
  cond: LidarConditions,
  rng: Rng,
): Float32Array {
  const m = quatToMatrix(sensorToScene.rotation);
  const [ox, oy, oz] = sensorToScene.translation;
  const elevations = beamElevations(lidar);
  const nAz = math.round(360 / lidar.azimuthStepDeg);
  const maxRange = cond.lidarSparse ? math.min(40, lidar.maxRange) : lidar.maxRange;
  const out = new Float32Array(elevations.length * nAz * POINT_STRIDE);
  const hit = newHit();
  let n = 0;
  for (let b = 0; b < elevations.length; b++) {
    if (cond.lidarSparse && b % 2 === 1) continue;
    const ce = math.cos(elevations[b]);
    const se = math.sin(elevations[b]);
    for (let k = 0; k < nAz; k++) {
      const az = k * lidar.azimuthStepDeg;
      // Ego forward is sensor +y (azimuth 90°); a limited field of view is centred there.
      const off = math.abs(((az - 90 + 540) % 360) - 180);
      if (off > cond.lidarFovDeg) continue;
      const sx = ce * math.cos(az * DEG);
      const sy = ce * math.sin(az * DEG);
      const dx = m[0] * sx + m[1] * sy + m[2] * se;
      const dy = m[3] * sx + m[4] * sy + m[5] * se;
      const dz = m[6] * sx + m[7] * sy + m[8] * se;
      if (!castRay(surface, boxes, ox, oy, oz, dx, dy, dz, hit)) continue;
      const cosInc = math.abs(dx * hit.nx + dy * hit.ny + dz * hit.nz);
      const refl = hit.object >= 0 ? boxes.objects[hit.object].parts[hit.part].reflectivity : GROUND_REFLECTIVITY[hit.material];
      const range = hit.t + rng.normal(0, RANGE_NOISE_SIGMA);
      let pDrop = cond.lidarDropout + (refl < 0.15 ? 0.05 : 0) + 0.1 * (1 - cosInc) ** 2;
      if (hit.object >= 0) pDrop = 1 - (1 - pDrop) * (1 - cond.objectPointDrop);
      const dropped = rng.next() < pDrop;
      if (dropped || range <= lidar.minRange || range >= maxRange) continue;
      out[n] = sx * range;
      out[n + 1] = sy * range;
      out[n + 2] = se * range;
      out[n + 3] = math.round(255 * refl * cosInc);
      out[n + 4] = b;
      n += POINT_STRIDE;
    }
  }
  return out.slice(0, n);
}

/**
 * Number of points inside each object's label box at the sweep instant. Points are read back from
 * the stored float32 values and mapped to the scene frame, so the count matches the saved file.
 */
export function countPointsInBoxes(points: Float32Array, sensorToScene: Pose, boxes: BoxSet): Int32Array {
  const m = quatToMatrix(sensorToScene.rotation);
  const [tx, ty, tz] = sensorToScene.translation;
  const counts = new Int32Array(boxes.objects.length);
  const h = boxes.hulls;
  for (let p = 0; p < points.length; p += POINT_STRIDE) {
    const x = points[p];
    const y = points[p + 1];
    const z = points[p + 2];
    const wx = m[0] * x + m[1] * y + m[2] * z + tx;
    const wy = m[3] * x + m[4] * y + m[5] * z + ty;
    const wz = m[6] * x + m[7] * y + m[8] * z + tz;
    for (let i = 0; i < counts.length; i++) {
      const o = i * BOX_STRIDE;
      const px = wx - h[o];
      const py = wy - h[o + 1];
      if (math.abs(wz - h[o + 2]) > h[o + 7]) continue;
      const lx = h[o + 3] * px + h[o + 4] * py;
      const ly = -h[o + 4] * px + h[o + 3] * py;
      if (math.abs(lx) <= h[o + 5] && math.abs(ly) <= h[o + 6]) counts[i]++;
    }
  }
  return counts;
}
