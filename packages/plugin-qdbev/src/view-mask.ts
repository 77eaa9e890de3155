import { BevzipError, ERROR_CODES, type BevGridGeometry, type CameraCalibration } from '@bevzip/ir';

type Point3 = readonly [number, number, number];

/**
 * A camera's ego point → [u, v, depth] map: p_cam = Rᵀ·(p − t) for the sensor → ego pose (R, t),
 * [u·z, v·z, z] = K·p_cam. u and v are NaN when the point is not in front (depth ≤ minDepth). R is
 * built once per camera, not once per projected point.
 */
export function egoToImage(cam: Pick<CameraCalibration, 'calib' | 'intrinsic'>, minDepth = 0): (p: Point3) => [number, number, number] {
  const [w, qx, qy, qz] = cam.calib.rotation;
  // Rows of R for the unit quaternion; Rᵀ·d takes its columns.
  const r = [
    1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - w * qz), 2 * (qx * qz + w * qy),
    2 * (qx * qy + w * qz), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - w * qx),
    2 * (qx * qz - w * qy), 2 * (qy * qz + w * qx), 1 - 2 * (qx * qx + qy * qy),
  ];
  const [tx, ty, tz] = cam.calib.translation;
  const k = cam.intrinsic;
  return (p) => {
    const dx = p[0] - tx;
    const dy = p[1] - ty;
    const dz = p[2] - tz;
    const x = r[0] * dx + r[3] * dy + r[6] * dz;
    const y = r[1] * dx + r[4] * dy + r[7] * dz;
    const z = r[2] * dx + r[5] * dy + r[8] * dz;
    if (!(z > minDepth)) return [NaN, NaN, z];
    const h = k[6] * x + k[7] * y + k[8] * z;
    return [(k[0] * x + k[1] * y + k[2] * z) / h, (k[3] * x + k[4] * y + k[5] * z) / h, z];
  };
}

/** One ego point projected into `cam`; see {@link egoToImage}. */
export function projectEgoPoint(cam: Pick<CameraCalibration, 'calib' | 'intrinsic'>, p: Point3, minDepth = 0): [number, number, number] {
  return egoToImage(cam, minDepth)(p);
}

export interface ViewMaskOptions {
  /** Height range [zmin, zmax] of the pillars sampled above each cell; default nuScenes' [−5, 3] m. */
  zRange?: [number, number];
  /** Points per pillar D, at heights zmin + (k + 0.5)/D·(zmax − zmin); default 4. */
  pillarPoints?: number;
}

/**
 * The camera-visibility mask M̄ [N_cam, rows·cols] (row-major cells): for each cell centre, the
 * fraction of its D pillar points that project in front of the camera (depth > 1e-5) and strictly
 * inside the image (0 < u/W < 1, 0 < v/H < 1), as BEVFormer's `bev_mask` averaged over D.
 * Points are in the ego frame; each camera's calibration maps sensor → ego.
 */
export function cameraViewMask(cameras: readonly CameraCalibration[], grid: BevGridGeometry, options: ViewMaskOptions = {}): Float32Array {
  const [zmin, zmax] = options.zRange ?? [-5, 3];
  const d = options.pillarPoints ?? 4;
  if (!(Number.isInteger(d) && d >= 1)) throw new BevzipError(ERROR_CODES.CONFIG, `view mask: pillarPoints must be a positive integer, got ${d}`);
  if (!(zmax > zmin)) throw new BevzipError(ERROR_CODES.CONFIG, `view mask: zRange must be [zmin, zmax] with zmax > zmin, got [${zmin}, ${zmax}]`);
  const [rows, cols] = grid.size;
  const out = new Float32Array(cameras.length * rows * cols);
  cameras.forEach((cam, n) => {
    const project = egoToImage(cam, 1e-5);
    for (let i = 0; i < rows; i++) {
      const x = grid.xmin + (i + 0.5) * grid.cell;
      for (let j = 0; j < cols; j++) {
        const y = grid.ymin + (j + 0.5) * grid.cell;
        let seen = 0;
        for (let k = 0; k < d; k++) {
          const z = zmin + ((k + 0.5) / d) * (zmax - zmin);
          const [u, v, depth] = project([x, y, z]);
          if (depth > 1e-5 && u > 0 && u < cam.width && v > 0 && v < cam.height) seen++;
        }
        out[(n * rows + i) * cols + j] = seen / d;
      }
    }
  });
  return out;
}
