import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES } from '@bevzip/ir';
import type { Frame } from '../data/types';
import { camBevIndexFor, frustumPointCount, orderedCameras } from './camera-geometry';
import { headGrid, REG_CHANNELS, usesCamera, usesLidar, type TaskConfig } from './config';
import type { TargetTensors } from './losses';
import { PILLAR_FEATURES, pillarize } from './pillarize';
import { buildDetectionTargets, buildMapTargets, egoBoxes, type DetectionTargets } from './targets';

/** Names of the model's graph inputs. */
export const FEED_NAMES = {
  images: 'images',
  camBevIndex: 'cam_bev_index',
  pillarFeatures: 'pillar_features',
  pillarMask: 'pillar_mask',
  pillarCoords: 'pillar_coords',
} as const;

/** One batch: graph feeds, loss targets and the host-side labels behind them. */
export interface Batch {
  /**
   * Graph inputs. Camera: `images` [B·6, H, W, 3] float RGB/255 (any further normalisation is the
   * model's), `cam_bev_index` int32 [B, 6·fH·fW·D]. LiDAR: `pillar_features` [B, P, M, 9],
   * `pillar_mask` [B, P, M], `pillar_coords` int32 [B, P, 2].
   */
  feeds: Record<string, tf.Tensor>;
  /** Loss targets; `map` only when the config has map classes. */
  targets: TargetTensors;
  /** Per sample, in batch order. */
  samples: { sampleToken: string; frame: Frame; detection: DetectionTargets }[];
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
        `images: camera ${cam.channel} has a ${cam.width}×${cam.height} image of ${cam.image.length} bytes; expected ${w}×${h}×3`,
      );
    }
    const o = n * per;
    for (let k = 0; k < per; k++) out[o + k] = cam.image[k] / 255;
  });
  return out;
}

/**
 * Builds the graph feeds and the training targets of a batch of frames. The modality decides which
 * feeds exist; boxes become ego-frame CenterPoint targets and map labels the map targets.
 * Caller owns the tensors: release them with {@link disposeBatch}.
 * @throws BevzipError (E_BAD_FEED) for an empty batch, a missing camera, a wrong image size or
 *   missing map labels.
 */
export function makeBatch(frames: readonly Frame[], cfg: TaskConfig): Batch {
  if (frames.length === 0)
    throw new BevzipError(ERROR_CODES.BAD_FEED, 'makeBatch: a batch needs at least one frame');
  const b = frames.length;
  const hostFeeds: { name: string; data: Float32Array | Int32Array; shape: number[] }[] = [];

  if (usesCamera(cfg.modality)) {
    const { imageHeight: h, imageWidth: w } = cfg.camera;
    const n = frustumPointCount(cfg);
    const index = new Int32Array(b * n);
    frames.forEach((f, s) => index.set(camBevIndexFor(f, cfg), s * n));
    hostFeeds.push({ name: FEED_NAMES.images, data: stackImages(frames, cfg), shape: [-1, h, w, 3] });
    hostFeeds.push({ name: FEED_NAMES.camBevIndex, data: index, shape: [b, n] });
  }
  if (usesLidar(cfg.modality)) {
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
    hostFeeds.push({ name: FEED_NAMES.pillarFeatures, data: features, shape: [b, p, m, PILLAR_FEATURES] });
    hostFeeds.push({ name: FEED_NAMES.pillarMask, data: mask, shape: [b, p, m] });
    hostFeeds.push({ name: FEED_NAMES.pillarCoords, data: coords, shape: [b, p, 2] });
  }

  const g = headGrid(cfg);
  const [hh, wh] = g.size;
  const k = cfg.classes.length;
  const r = REG_CHANNELS.length;
  const heat = new Float32Array(b * hh * wh * k);
  const reg = new Float32Array(b * hh * wh * r);
  const regWeight = new Float32Array(b * hh * wh * r);
  const samples: Batch['samples'] = frames.map((frame, s) => {
    const detection = buildDetectionTargets(egoBoxes(frame), cfg);
    heat.set(detection.heatmap, s * hh * wh * k);
    reg.set(detection.reg, s * hh * wh * r);
    regWeight.set(detection.regWeight, s * hh * wh * r);
    return { sampleToken: frame.sampleToken, frame, detection };
  });
  let mapData: Float32Array | undefined;
  const [mh, mw] = cfg.mapGrid.size;
  const km = cfg.mapClasses.length;
  if (km > 0) {
    mapData = new Float32Array(b * mh * mw * km);
    frames.forEach((f, s) => {
      if (!f.map)
        throw new BevzipError(
          ERROR_CODES.BAD_FEED,
          `sample ${f.sampleToken}: the config has map classes but the frame has no map labels`,
        );
      mapData!.set(buildMapTargets(f.map, cfg, f.sampleToken), s * mh * mw * km);
    });
  }

  const feeds: Record<string, tf.Tensor> = {};
  for (const f of hostFeeds) {
    const shape =
      f.shape[0] === -1
        ? [f.data.length / f.shape.slice(1).reduce((a, c) => a * c, 1), ...f.shape.slice(1)]
        : f.shape;
    feeds[f.name] = tf.tensor(f.data, shape, f.data instanceof Int32Array ? 'int32' : 'float32');
  }
  const targets: TargetTensors = {
    heatmap: tf.tensor4d(heat, [b, hh, wh, k]),
    reg: tf.tensor4d(reg, [b, hh, wh, r]),
    regWeight: tf.tensor4d(regWeight, [b, hh, wh, r]),
  };
  if (mapData) targets.map = tf.tensor4d(mapData, [b, mh, mw, km]);
  return { feeds, targets, samples };
}

/** Releases every tensor of a batch. */
export function disposeBatch(batch: Pick<Batch, 'feeds' | 'targets'>): void {
  tf.dispose(Object.values(batch.feeds));
  tf.dispose([batch.targets.heatmap, batch.targets.reg, batch.targets.regWeight]);
  if (batch.targets.map) batch.targets.map.dispose();
}
