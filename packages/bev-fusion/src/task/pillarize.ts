import { BevzipError, ERROR_CODES } from '@bevzip/ir';
import { quatToMatrix, type LidarData } from '@bevzip/driving-data';
import type { TaskConfig } from './config';

/** Features per pillar point: x, y, z, intensity, offsets from the pillar mean (3), from the pillar centre (2). */
export const PILLAR_FEATURES = 9;

/** Pillars of one sample, laid out as the `pillar_*` graph inputs without the batch axis. */
export interface Pillars {
  /** [P, M, 9] row-major; padding points are all zero. */
  features: Float32Array;
  /** [P, M]: 1 for a real point, 0 for padding. */
  mask: Float32Array;
  /** [P, 2]: (row i ↔ x, column j ↔ y) of each pillar; −1 for padding pillars. */
  coords: Int32Array;
  /** Pillars in use (≤ P). */
  numPillars: number;
  /** Points kept (inside the grid, within the pillar and point caps). */
  numPoints: number;
  /** Points inside the grid dropped by the caps. */
  numDropped: number;
}

/**
 * Groups a LiDAR sweep into BEV pillars. Points (LIDAR_TOP frame, `stride` floats each with
 * x, y, z, intensity first) are moved to the ego frame with `lidar.calib`, assigned to the grid
 * cell ⌊(p − min)/Δ⌋ (row i ↔ x, column j ↔ y) and dropped outside the grid or `zRange`.
 * Selection is deterministic and stable: pillars are numbered in the order their first point
 * appears, the first P pillars are kept, and each keeps its first M points. The mean offsets use
 * the kept points; intensity is multiplied by `intensityScale`.
 */
export function pillarize(
  lidar: Pick<LidarData, 'calib' | 'points'>,
  cfg: Pick<TaskConfig, 'grid' | 'zRange' | 'lidar'>,
  stride = 5,
): Pillars {
  if (stride < 4 || lidar.points.length % stride !== 0) {
    throw new BevzipError(
      ERROR_CODES.BAD_FEED,
      `pillarize: points must hold ${stride} ≥ 4 floats per point, got ${lidar.points.length} floats`,
    );
  }
  const { maxPillars: P, maxPointsPerPillar: M, intensityScale } = cfg.lidar;
  const { xmin, ymin, cell, size } = cfg.grid;
  const [rows, cols] = size;
  const [z0, z1] = cfg.zRange;
  const r = quatToMatrix(lidar.calib.rotation);
  const [tx, ty, tz] = lidar.calib.translation;
  const pts = lidar.points;

  const features = new Float32Array(P * M * PILLAR_FEATURES);
  const mask = new Float32Array(P * M);
  const coords = new Int32Array(P * 2).fill(-1);
  const slotOfCell = new Int32Array(rows * cols).fill(-1);
  const count = new Int32Array(P);
  const sums = new Float64Array(P * 3);
  let numPillars = 0;
  let numPoints = 0;
  let numDropped = 0;

  for (let p = 0; p < pts.length; p += stride) {
    const sx = pts[p];
    const sy = pts[p + 1];
    const sz = pts[p + 2];
    const x = r[0] * sx + r[1] * sy + r[2] * sz + tx;
    const y = r[3] * sx + r[4] * sy + r[5] * sz + ty;
    const z = r[6] * sx + r[7] * sy + r[8] * sz + tz;
    const i = Math.floor((x - xmin) / cell);
    const j = Math.floor((y - ymin) / cell);
    if (i < 0 || j < 0 || i >= rows || j >= cols || !(z >= z0 && z < z1)) continue;
    let slot = slotOfCell[i * cols + j];
    if (slot < 0) {
      if (numPillars >= P) {
        numDropped++;
        continue;
      }
      slot = numPillars++;
      slotOfCell[i * cols + j] = slot;
      coords[2 * slot] = i;
      coords[2 * slot + 1] = j;
    }
    const k = count[slot];
    if (k >= M) {
      numDropped++;
      continue;
    }
    count[slot] = k + 1;
    const o = (slot * M + k) * PILLAR_FEATURES;
    features[o] = x;
    features[o + 1] = y;
    features[o + 2] = z;
    features[o + 3] = pts[p + 3] * intensityScale;
    mask[slot * M + k] = 1;
    sums[3 * slot] += x;
    sums[3 * slot + 1] += y;
    sums[3 * slot + 2] += z;
    numPoints++;
  }

  for (let s = 0; s < numPillars; s++) {
    const n = count[s];
    const mx = sums[3 * s] / n;
    const my = sums[3 * s + 1] / n;
    const mz = sums[3 * s + 2] / n;
    const cx = xmin + (coords[2 * s] + 0.5) * cell;
    const cy = ymin + (coords[2 * s + 1] + 0.5) * cell;
    for (let k = 0; k < n; k++) {
      const o = (s * M + k) * PILLAR_FEATURES;
      features[o + 4] = features[o] - mx;
      features[o + 5] = features[o + 1] - my;
      features[o + 6] = features[o + 2] - mz;
      features[o + 7] = features[o] - cx;
      features[o + 8] = features[o + 1] - cy;
    }
  }
  return { features, mask, coords, numPillars, numPoints, numDropped };
}
