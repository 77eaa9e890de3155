import { BevzipError, ERROR_CODES } from '@bevzip/ir';
import { projectToCamera, type CameraModel } from '@bevzip/bev-fusion';

/** A camera as the view mask needs it: sensor → ego calibration, 3×3 intrinsics, image size. */
export type MaskCamera = CameraModel & { width: number; height: number };

/** A BEV grid: row i ↔ x ∈ [xmin + iΔ, xmin + (i+1)Δ), column j ↔ y. */
export interface MaskGrid {
  xmin: number;
  ymin: number;
  cell: number;
  size: [number, number];
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
export function cameraViewMask(cameras: readonly MaskCamera[], grid: MaskGrid, options: ViewMaskOptions = {}): Float32Array {
  const [zmin, zmax] = options.zRange ?? [-5, 3];
  const d = options.pillarPoints ?? 4;
  if (!(Number.isInteger(d) && d >= 1)) throw new BevzipError(ERROR_CODES.CONFIG, `view mask: pillarPoints must be a positive integer, got ${d}`);
  if (!(zmax > zmin)) throw new BevzipError(ERROR_CODES.CONFIG, `view mask: zRange must be [zmin, zmax] with zmax > zmin, got [${zmin}, ${zmax}]`);
  const [rows, cols] = grid.size;
  const out = new Float32Array(cameras.length * rows * cols);
  cameras.forEach((cam, n) => {
    for (let i = 0; i < rows; i++) {
      const x = grid.xmin + (i + 0.5) * grid.cell;
      for (let j = 0; j < cols; j++) {
        const y = grid.ymin + (j + 0.5) * grid.cell;
        let seen = 0;
        for (let k = 0; k < d; k++) {
          const z = zmin + ((k + 0.5) / d) * (zmax - zmin);
          const [u, v, depth] = projectToCamera(cam, [x, y, z], 1e-5);
          if (depth > 1e-5 && u > 0 && u < cam.width && v > 0 && v < cam.height) seen++;
        }
        out[(n * rows + i) * cols + j] = seen / d;
      }
    }
  });
  return out;
}
