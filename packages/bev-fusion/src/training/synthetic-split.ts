import type * as tf from '@tensorflow/tfjs';
import { hashString, type Batch as RuntimeBatch, type DataSource } from '@bevzip/ir';
import type { Frame } from '@bevzip/driving-data';
import type { WorkerBatchStream } from '../stream/batch-stream';
import { generateScene } from '@bevzip/synthetic-scenes';
import { disposeBatch, makeBatch } from '../task/batch';
import type { TaskConfig } from '../task/config';
import { FrameBatchSource } from '../task/data-source';
import { assembleHostBatch, hostTensorToTf, type HostBatch, type HostTensor } from '../task/host-batch';
import type { TargetTensors } from '../task/losses';

/** Index of the first validation scene: far above any training split, so the two never overlap. */
export const VAL_FIRST_SCENE = 100_000;

/** Which synthetic scenes make the training and validation sets. */
export interface SyntheticSplitOptions {
  /** Seed of the synthetic generator (independent of the training seed). Default 0. */
  dataSeed?: number;
  /** Training scenes 0 … trainScenes − 1. */
  trainScenes: number;
  /** Validation scenes VAL_FIRST_SCENE … + valScenes − 1. */
  valScenes: number;
  /** Frames per scene, 0.5 s apart. Default 3. */
  framesPerScene?: number;
}

/** Frames of scenes [first, first + count) of `seed`; `onScene` reports progress. */
export function syntheticFrames(
  seed: number,
  first: number,
  count: number,
  framesPerScene: number,
  onScene?: (done: number, total: number) => void,
): Frame[] {
  const frames: Frame[] = [];
  for (let i = 0; i < count; i++) {
    frames.push(...generateScene({ seed, sceneIndex: first + i, frames: framesPerScene }));
    onScene?.(i + 1, count);
  }
  return frames;
}

/** The validation frames of a split: fixed by the data seed and the scene count alone. */
export function validationFrames(
  options: Pick<SyntheticSplitOptions, 'dataSeed' | 'valScenes' | 'framesPerScene'>,
): Frame[] {
  return syntheticFrames(
    options.dataSeed ?? 0,
    VAL_FIRST_SCENE,
    options.valScenes,
    options.framesPerScene ?? 3,
  );
}

/** Host copies of a batch's targets; they become tensors inside the loss, so the gradient tape frees them. */
export interface HostTargets {
  heatmap: HostTensor;
  reg: HostTensor;
  regWeight: HostTensor;
  map?: HostTensor;
}

/** Target tensors of host targets (call inside a tidy or a gradient function). */
export function targetTensors(t: HostTargets): TargetTensors {
  return {
    heatmap: hostTensorToTf(t.heatmap),
    reg: hostTensorToTf(t.reg),
    regWeight: hostTensorToTf(t.regWeight),
    map: t.map && hostTensorToTf(t.map),
  };
}

/** A runtime batch from a host batch: feeds become tensors the runtime disposes, targets stay on the host. */
function runtimeBatch(b: HostBatch): RuntimeBatch {
  const { heatmap, reg, regWeight, map } = b.targets;
  const feeds = Object.fromEntries(Object.entries(b.feeds).map(([name, t]) => [name, hostTensorToTf(t)]));
  return {
    feeds,
    targets: { heatmap: heatmap!, reg: reg!, regWeight: regWeight!, map } satisfies HostTargets,
    size: b.sampleTokens.length,
    geometry: b.geometry,
    boxes: b.boxes,
  };
}

/**
 * A runtime data source over a fixed list of frames: step s reads the batch a {@link FrameBatchSource}
 * puts at s, so a resumed run sees the same batches. Its order is seeded by `seed`, or, when no seed
 * is given, by the run seed and the stage name (each stage of a pipeline gets its own order).
 * Feeds are tensors the runtime disposes; targets stay on the host ({@link HostTargets}).
 */
export function frameDataSource(
  frames: readonly Frame[],
  cfg: TaskConfig,
  batchSize: number,
  seed?: number,
): DataSource {
  const sources = new Map<number, FrameBatchSource>();
  return {
    batch(step, ctx): RuntimeBatch {
      const orderSeed = seed ?? hashString(`stage:${ctx.stage}`, ctx.seed);
      let source = sources.get(orderSeed);
      if (!source)
        sources.set(orderSeed, (source = new FrameBatchSource(frames, cfg, { batchSize, seed: orderSeed })));
      const batchFrames = source.indicesAt(step).map((i) => frames[i]);
      return runtimeBatch(assembleHostBatch(step, batchFrames, cfg));
    },
  };
}

/**
 * A runtime data source over a synthetic batch stream made in a worker thread (fresh scenes at every
 * step, so no frame repeats); targets stay on the host like {@link frameDataSource}'s.
 */
export function streamDataSource(stream: WorkerBatchStream): DataSource {
  return { batch: async (step) => runtimeBatch(await stream.hostBatch(step)) };
}

/** Feeds of one batch of frames (for exports and warm-up); caller disposes. */
export function feedsOf(frames: readonly Frame[], cfg: TaskConfig): Record<string, tf.Tensor> {
  const b = makeBatch(frames, cfg);
  disposeBatch({ feeds: {}, targets: b.targets });
  return b.feeds;
}
