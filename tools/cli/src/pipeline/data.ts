import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { disposeBatch, FrameBatchSource, generateScene, loadNuScenes, taskLoss, type Frame, type TargetTensors, type TaskConfig } from '@bevzip/bev-fusion';
import { BevzipError, ERROR_CODES, hashString, type Batch, type DataSource } from '@bevzip/ir';
import type { DataSpec } from './schema';

/** First synthetic validation scene: far above any training split, so the two never overlap. */
export const SYNTHETIC_VAL_FIRST_SCENE = 100_000;

/** Training and held-out evaluation frames of a pipeline. */
export interface PipelineFrames {
  train: Frame[];
  val: Frame[];
  /** One line saying what the data is, for logs and the report. */
  description: string;
}

/**
 * Reads the frames a pipeline's `data` names: synthetic scenes 0…scenes−1 (validation scenes from
 * {@link SYNTHETIC_VAL_FIRST_SCENE}), or a nuScenes-format dataset whose last `valScenes` scenes
 * (by name) are held out.
 */
export function loadFrames(spec: DataSpec, options: { baseDir: string; onScene?: (done: number, total: number) => void }): PipelineFrames {
  if ('synthetic' in spec) {
    const { seed, scenes, framesPerScene, valScenes } = spec.synthetic;
    const total = scenes + valScenes;
    let done = 0;
    const scene = (index: number) => {
      const frames = generateScene({ seed, sceneIndex: index, frames: framesPerScene });
      options.onScene?.(++done, total);
      return frames;
    };
    const train = Array.from({ length: scenes }, (_, i) => scene(i)).flat();
    const val = Array.from({ length: valScenes }, (_, i) => scene(SYNTHETIC_VAL_FIRST_SCENE + i)).flat();
    return { train, val, description: `synthetic seed ${seed}: ${scenes} training + ${valScenes} held-out scenes of ${framesPerScene} frames` };
  }
  const { root, version, valScenes } = spec.nuscenes;
  const ds = loadNuScenes(path.resolve(options.baseDir, root), version);
  const names = [...new Set(ds.listSamples().map((s) => s.sceneName))].sort();
  if (names.length < 2) throw new BevzipError(ERROR_CODES.CONFIG, `data.nuscenes: ${root}/${version} has ${names.length} scene(s); expected at least 2 (training and held-out)`);
  const held = names.slice(Math.max(1, names.length - valScenes));
  const kept = names.filter((n) => !held.includes(n));
  return {
    train: [...ds.frames({ scenes: kept })],
    val: [...ds.frames({ scenes: held })],
    description: `nuScenes ${version} at ${root}: ${kept.length} training + ${held.length} held-out scenes`,
  };
}

interface HostTensor {
  data: Float32Array;
  shape: number[];
}

/** Targets kept on the host between batches; they become tensors inside the loss, where the tape frees them. */
interface HostTargets {
  heatmap: HostTensor;
  reg: HostTensor;
  regWeight: HostTensor;
  map?: HostTensor;
}

const host = (t: tf.Tensor): HostTensor => ({ data: Float32Array.from(t.dataSync() as Float32Array), shape: t.shape });

/**
 * Training batches over `frames` for the runtime: the batch at step s of a stage is fixed by the run
 * seed, the stage name and s alone, so a resumed run reads the same batches.
 */
export function frameDataSource(frames: readonly Frame[], cfg: TaskConfig, batchSize: number): DataSource {
  const sources = new Map<number, FrameBatchSource>();
  return {
    batch(step, ctx): Batch {
      const seed = hashString(`stage:${ctx.stage}`, ctx.seed);
      let source = sources.get(seed);
      if (!source) sources.set(seed, (source = new FrameBatchSource(frames, cfg, { batchSize, seed })));
      const b = source.batchAt(step);
      const t = b.targets;
      const targets: HostTargets = { heatmap: host(t.heatmap), reg: host(t.reg), regWeight: host(t.regWeight), map: t.map && host(t.map) };
      disposeBatch({ feeds: {}, targets: t });
      return { feeds: b.feeds, targets };
    },
  };
}

/** The model's task loss (heat map + regression + map) for the runtime; call inside a tidy or gradient scope. */
export function pipelineTaskLoss(cfg: TaskConfig): (outputs: Record<string, tf.Tensor>, batch: Batch) => tf.Scalar {
  return (outputs, batch) => {
    const h = batch.targets as HostTargets;
    const make = (x: HostTensor) => tf.tensor(x.data, x.shape);
    const targets: TargetTensors = { heatmap: make(h.heatmap), reg: make(h.reg), regWeight: make(h.regWeight), map: h.map && make(h.map) };
    // Called inside the runtime's gradient scope, which frees the targets and the other terms.
    return taskLoss({ heatmap: outputs.heatmap, reg: outputs.reg, map: outputs.map }, targets, cfg).total;
  };
}
