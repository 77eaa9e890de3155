import * as tf from '@tensorflow/tfjs';
import type { Frame } from '@bevzip/driving-data';
import type { TaskConfig } from './config';
import type { TargetTensors } from './losses';
import type { DetectionTargets } from './targets';
import { assembleWithDetections, hostTensorToTf } from './host-batch';

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

/**
 * Builds the graph feeds and the training targets of a batch of frames. The modality decides which
 * feeds exist; boxes become ego-frame CenterPoint targets and map labels the map targets.
 * Caller owns the tensors: release them with {@link disposeBatch}.
 * @throws BevzipError (E_BAD_FEED) for an empty batch, a missing camera, a wrong image size or
 *   missing map labels.
 */
export function makeBatch(frames: readonly Frame[], cfg: TaskConfig): Batch {
  const { batch, detections } = assembleWithDetections(0, frames, cfg);
  const feeds = Object.fromEntries(Object.entries(batch.feeds).map(([name, t]) => [name, hostTensorToTf(t)]));
  const { heatmap, reg, regWeight, map } = batch.targets;
  const targets: TargetTensors = {
    heatmap: hostTensorToTf(heatmap!),
    reg: hostTensorToTf(reg!),
    regWeight: hostTensorToTf(regWeight!),
  };
  if (map) targets.map = hostTensorToTf(map);
  return {
    feeds,
    targets,
    samples: frames.map((frame, s) => ({ sampleToken: frame.sampleToken, frame, detection: detections[s] })),
  };
}

/** Releases every tensor of a batch. */
export function disposeBatch(batch: Pick<Batch, 'feeds' | 'targets'>): void {
  tf.dispose(Object.values(batch.feeds));
  tf.dispose([batch.targets.heatmap, batch.targets.reg, batch.targets.regWeight]);
  if (batch.targets.map) batch.targets.map.dispose();
}
