import { BevzipError, ERROR_CODES } from '@bevzip/ir';
import {
  CAMERA_CHANNELS,
  unprojectFromCamera,
  type CameraCalibration,
  type CameraData,
  type Frame,
} from '@bevzip/driving-data';
import { depthBins, type TaskConfig } from './config';

/**
 * Flat BEV cell `i·cols + j` of an ego-frame point (row i ↔ x, column j ↔ y,
 * cell = ⌊(p − min)/Δ⌋), or −1 when the point lies outside the grid or the z range.
 */
export function bevCellOf(cfg: Pick<TaskConfig, 'grid' | 'zRange'>, x: number, y: number, z: number): number {
  const g = cfg.grid;
  const i = Math.floor((x - g.xmin) / g.cell);
  const j = Math.floor((y - g.ymin) / g.cell);
  if (i < 0 || j < 0 || i >= g.size[0] || j >= g.size[1] || !(z >= cfg.zRange[0] && z < cfg.zRange[1]))
    return -1;
  return i * g.size[1] + j;
}

/** `n` evenly spaced values from `a` to `b` inclusive (numpy/torch `linspace`). */
export function evenlySpaced(a: number, b: number, n: number): number[] {
  if (n === 1) return [a];
  return Array.from({ length: n }, (_, k) => a + ((b - a) * k) / (n - 1));
}

/** The frustum's pixel columns, rows (image coordinates) and depths of a config. */
export function frustumAxes(cfg: Pick<TaskConfig, 'camera'>): {
  us: number[];
  vs: number[];
  depths: number[];
} {
  const c = cfg.camera;
  const { start, step } = c.depth;
  return {
    us: evenlySpaced(0, c.imageWidth - 1, c.featureWidth).map((u) => u + c.pixelOffset),
    vs: evenlySpaced(0, c.imageHeight - 1, c.featureHeight).map((v) => v + c.pixelOffset),
    depths: Array.from({ length: depthBins(cfg) }, (_, k) => start + step * k),
  };
}

/** Number of frustum points per sample: N_cam · fH · fW · D. */
export function frustumPointCount(cfg: Pick<TaskConfig, 'camera'>, cameras = CAMERA_CHANNELS.length): number {
  return cameras * cfg.camera.featureHeight * cfg.camera.featureWidth * depthBins(cfg);
}

/**
 * The cameras of a frame in the model's order (MIT channel order, `CAMERA_CHANNELS`).
 * @throws BevzipError (E_BAD_FEED) naming the sample and channel when one is missing or doubled.
 */
export function orderedCameras(frame: Pick<Frame, 'cameras' | 'sampleToken'>): CameraData[] {
  return CAMERA_CHANNELS.map((ch) => {
    const found = frame.cameras.filter((c) => c.channel === ch);
    if (found.length !== 1) {
      throw new BevzipError(
        ERROR_CODES.BAD_FEED,
        `sample ${frame.sampleToken}: expected one ${ch} camera, found ${found.length}`,
      );
    }
    return found[0];
  });
}

/**
 * Assigns every frustum point of a camera rig to a BEV cell: the `cam_bev_index` graph input of one
 * sample. Point order is camera (as given), feature row, feature column, depth bin (innermost), i.e.
 * the row-major flattening of the lifted features [N_cam, fH, fW, D, C] without C. Each point is the
 * pixel (u, v) of the frustum unprojected to depth d along the optical axis
 * (p_cam = K⁻¹·(u·d, v·d, d)) and moved to the ego frame with the camera's calibration; points outside
 * the grid or the z range get −1.
 * @throws BevzipError (E_BAD_FEED) when a camera's image size differs from the configured one, since
 *   its intrinsics would then refer to another resolution.
 */
export function computeCamBevIndex(
  cameras: readonly CameraCalibration[],
  cfg: Pick<TaskConfig, 'grid' | 'zRange' | 'camera'>,
): Int32Array {
  const { us, vs, depths } = frustumAxes(cfg);
  const out = new Int32Array(cameras.length * vs.length * us.length * depths.length);
  let n = 0;
  for (const cam of cameras) {
    if (cam.width !== cfg.camera.imageWidth || cam.height !== cfg.camera.imageHeight) {
      throw new BevzipError(
        ERROR_CODES.BAD_FEED,
        `camera geometry: image ${cam.width}×${cam.height} differs from the configured ${cfg.camera.imageWidth}×${cfg.camera.imageHeight}`,
      );
    }
    for (const v of vs) {
      for (const u of us) {
        for (const d of depths) {
          const [x, y, z] = unprojectFromCamera(cam, u, v, d);
          out[n++] = bevCellOf(cfg, x, y, z);
        }
      }
    }
  }
  return out;
}

const CACHE_LIMIT = 16;
const cache = new Map<string, Int32Array>();

function cacheKey(
  cameras: readonly CameraCalibration[],
  cfg: Pick<TaskConfig, 'grid' | 'zRange' | 'camera'>,
): string {
  return JSON.stringify([
    cameras.map((c) => [c.calib, c.intrinsic, c.width, c.height]),
    cfg.grid,
    cfg.zRange,
    cfg.camera,
  ]);
}

/**
 * {@link computeCamBevIndex} for a frame's cameras (in model order), memoised per calibration:
 * a fixed rig computes the geometry once for every sample. The returned array is shared; do not
 * modify it.
 */
export function camBevIndexFor(
  frame: Pick<Frame, 'cameras' | 'sampleToken'>,
  cfg: Pick<TaskConfig, 'grid' | 'zRange' | 'camera'>,
): Int32Array {
  const cams = orderedCameras(frame);
  const key = cacheKey(cams, cfg);
  let hit = cache.get(key);
  if (!hit) {
    hit = computeCamBevIndex(cams, cfg);
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(key, hit);
  }
  return hit;
}

/**
 * The camera geometry of a fixed rig as an export's constant input: `cam_bev_index` of one sample
 * (batch 1), the same for every frame given. A car's rig does not move, so the file it ships can
 * carry the frustum-to-cell index instead of reading it per frame, and onnxruntime sorts the BEV
 * pool's cells once at load.
 * @throws BevzipError (E_BAD_FEED) when no frame is given, or naming the first frame whose
 *   calibration yields another index (a log with several rigs cannot be baked).
 */
export function fixedRigInputs(
  frames: readonly Pick<Frame, 'cameras' | 'sampleToken'>[],
  cfg: Pick<TaskConfig, 'grid' | 'zRange' | 'camera'>,
): { cam_bev_index: { data: Int32Array; dims: number[] } } {
  if (frames.length === 0) throw new BevzipError(ERROR_CODES.BAD_FEED, 'fixed rig: no frames to read the camera calibration from');
  const first = camBevIndexFor(frames[0], cfg);
  for (const frame of frames.slice(1)) {
    const index = camBevIndexFor(frame, cfg);
    if (index === first) continue;
    const at = index.findIndex((v, i) => v !== first[i]);
    if (at >= 0) {
      throw new BevzipError(
        ERROR_CODES.BAD_FEED,
        `fixed rig: sample ${frame.sampleToken} has another camera calibration than sample ${frames[0].sampleToken} (frustum point ${at} falls in cell ${index[at]}, not ${first[at]}); export with per-frame geometry instead`,
      );
    }
  }
  return { cam_bev_index: { data: Int32Array.from(first), dims: [1, first.length] } };
}
