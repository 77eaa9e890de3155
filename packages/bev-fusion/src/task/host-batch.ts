import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES, type BatchBox, type SensorGeometry } from '@bevzip/ir';
import type { Frame } from '@bevzip/driving-data';
import { MODEL_INPUTS } from '../model/build';
import { camBevIndexFor, frustumPointCount, orderedCameras } from './camera-geometry';
import { headGrid, REG_CHANNELS, usesCamera, usesLidar, type TaskConfig } from './config';
import { PILLAR_FEATURES, pillarize } from './pillarize';
import { buildDetectionTargets, buildMapTargets, egoBoxes, type DetectionTargets } from './targets';

/** A tensor as plain host data: what crosses the worker boundary (the buffer is transferred). */
export interface HostTensor {
  data: Float32Array | Int32Array;
  shape: number[];
}

/** Loss-target names of a batch, as in the task's `TargetTensors`. */
export type TargetName = 'heatmap' | 'reg' | 'regWeight' | 'map';

/**
 * One batch before it becomes tensors: the graph feeds (named as `MODEL_INPUTS`) and the loss targets
 * of the frames, with the sample tokens in batch order. Every array owns its buffer, so the whole
 * batch can be posted to another thread with {@link hostBatchTransferList}.
 */
export interface HostBatch {
  /** The training step this batch belongs to. */
  step: number;
  feeds: Record<string, HostTensor>;
  targets: Partial<Record<TargetName, HostTensor>>;
  sampleTokens: string[];
  /** Regression-target cells per sample (objects the heat map has a peak for). */
  numObjects: number[];
  /** Each sample's cameras (model order) and the BEV grid, for hooks that need calibrations. */
  geometry: SensorGeometry;
  /** Each sample's target boxes (those that produced detection targets), for hooks that need them. */
  boxes: BatchBox[][];
}

/** The sensor geometry of a batch of frames: their cameras in the model's order and the task's BEV grid. */
export function batchGeometry(frames: readonly Frame[], cfg: TaskConfig): SensorGeometry {
  const cameras = usesCamera(cfg.modality)
    ? frames.map((f) => orderedCameras(f).map(({ calib, intrinsic, width, height }) => ({ calib, intrinsic, width, height })))
    : frames.map(() => []);
  return { cameras, grid: cfg.grid };
}

function stackImages(frames: readonly Frame[], cfg: TaskConfig): Float32Array {
  const { imageHeight: h, imageWidth: w } = cfg.camera;
  const per = h * w * 3;
  const cams = frames.flatMap((f) => orderedCameras(f));
  const out = new Float32Array(cams.length * per);
  cams.forEach((cam, n) => {
    if (cam.width !== w || cam.height !== h || cam.image.length !== per) {
      throw new BevzipError(
        ERROR_CODES.BAD_FEED,
        `images: camera ${cam.channel} of sample ${frames[Math.floor(n / 6)]?.sampleToken} has a ${cam.width}×${cam.height} image of ${cam.image.length} bytes; expected ${w}×${h}×3`,
      );
    }
    const o = n * per;
    for (let k = 0; k < per; k++) out[o + k] = cam.image[k] / 255;
  });
  return out;
}

function cameraFeeds(frames: readonly Frame[], cfg: TaskConfig): Record<string, HostTensor> {
  const { imageHeight: h, imageWidth: w } = cfg.camera;
  const n = frustumPointCount(cfg);
  const index = new Int32Array(frames.length * n);
  frames.forEach((f, s) => index.set(camBevIndexFor(f, cfg), s * n));
  const images = stackImages(frames, cfg);
  return {
    [MODEL_INPUTS.images]: { data: images, shape: [images.length / (h * w * 3), h, w, 3] },
    [MODEL_INPUTS.camBevIndex]: { data: index, shape: [frames.length, n] },
  };
}

function lidarFeeds(frames: readonly Frame[], cfg: TaskConfig): Record<string, HostTensor> {
  const b = frames.length;
  const { maxPillars: p, maxPointsPerPillar: m } = cfg.lidar;
  const features = new Float32Array(b * p * m * PILLAR_FEATURES);
  const mask = new Float32Array(b * p * m);
  const coords = new Int32Array(b * p * 2);
  frames.forEach((f, s) => {
    const pillars = pillarize(f.lidar, cfg);
    features.set(pillars.features, s * p * m * PILLAR_FEATURES);
    mask.set(pillars.mask, s * p * m);
    coords.set(pillars.coords, s * p * 2);
  });
  return {
    [MODEL_INPUTS.pillarFeatures]: { data: features, shape: [b, p, m, PILLAR_FEATURES] },
    [MODEL_INPUTS.pillarMask]: { data: mask, shape: [b, p, m] },
    [MODEL_INPUTS.pillarCoords]: { data: coords, shape: [b, p, 2] },
  };
}

/**
 * The host-side work of a batch — image stacking, frustum cell indices, pillarisation, CenterPoint
 * and map targets — with no tensor library involved, so it can run in a worker thread. Holds the
 * same values, in the same layout, as the tensors `makeBatch` builds from the same frames.
 * @throws BevzipError (E_BAD_FEED) for an empty batch, a missing camera, a wrong image size or
 *   missing map labels.
 */
export function assembleHostBatch(step: number, frames: readonly Frame[], cfg: TaskConfig): HostBatch {
  return assembleWithDetections(step, frames, cfg).batch;
}

/** {@link assembleHostBatch}, also returning each sample's detection targets (boxes, counts). */
export function assembleWithDetections(
  step: number,
  frames: readonly Frame[],
  cfg: TaskConfig,
): { batch: HostBatch; detections: DetectionTargets[] } {
  if (frames.length === 0)
    throw new BevzipError(ERROR_CODES.BAD_FEED, `batch of step ${step}: a batch needs at least one frame`);
  const b = frames.length;
  const feeds: Record<string, HostTensor> = {
    ...(usesCamera(cfg.modality) ? cameraFeeds(frames, cfg) : {}),
    ...(usesLidar(cfg.modality) ? lidarFeeds(frames, cfg) : {}),
  };
  const [hh, wh] = headGrid(cfg).size;
  const k = cfg.classes.length;
  const r = REG_CHANNELS.length;
  const heat = new Float32Array(b * hh * wh * k);
  const reg = new Float32Array(b * hh * wh * r);
  const regWeight = new Float32Array(b * hh * wh * r);
  const detections = frames.map((frame, s) => {
    const det = buildDetectionTargets(egoBoxes(frame), cfg);
    heat.set(det.heatmap, s * hh * wh * k);
    reg.set(det.reg, s * hh * wh * r);
    regWeight.set(det.regWeight, s * hh * wh * r);
    return det;
  });
  const numObjects = detections.map((d) => d.numObjects);
  const targets: HostBatch['targets'] = {
    heatmap: { data: heat, shape: [b, hh, wh, k] },
    reg: { data: reg, shape: [b, hh, wh, r] },
    regWeight: { data: regWeight, shape: [b, hh, wh, r] },
  };
  const km = cfg.mapClasses.length;
  if (km > 0) {
    const [mh, mw] = cfg.mapGrid.size;
    const map = new Float32Array(b * mh * mw * km);
    frames.forEach((f, s) => {
      if (!f.map)
        throw new BevzipError(
          ERROR_CODES.BAD_FEED,
          `sample ${f.sampleToken}: the config has map classes but the frame has no map labels`,
        );
      map.set(buildMapTargets(f.map, cfg, f.sampleToken), s * mh * mw * km);
    });
    targets.map = { data: map, shape: [b, mh, mw, km] };
  }
  return {
    batch: {
      step,
      feeds,
      targets,
      sampleTokens: frames.map((f) => f.sampleToken),
      numObjects,
      geometry: batchGeometry(frames, cfg),
      boxes: detections.map((d) =>
        d.boxes.map(({ box, classIndex }) => ({ x: box.center[0], y: box.center[1], length: box.size[0], width: box.size[1], yaw: box.yaw, classIndex })),
      ),
    },
    detections,
  };
}

/** Uploads one host tensor to the current tfjs backend. */
export function hostTensorToTf(t: HostTensor): tf.Tensor {
  return tf.tensor(t.data, t.shape, t.data instanceof Int32Array ? 'int32' : 'float32');
}

/** The buffers of a host batch, for `postMessage`'s transfer list (no copy across threads). */
export function hostBatchTransferList(batch: HostBatch): ArrayBuffer[] {
  const all = [...Object.values(batch.feeds), ...Object.values(batch.targets)];
  return all.map((t) => t!.data.buffer as ArrayBuffer);
}
