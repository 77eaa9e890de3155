import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadNuScenes, NuScenesFormatError, type Frame } from '@bevzip/driving-data';
import { generateScene } from '@bevzip/synthetic-scenes';
import { targetTensors, taskLoss, VAL_FIRST_SCENE, type HostTargets, type TaskConfig } from '@bevzip/bev-fusion';
import { BevzipError, ERROR_CODES, type Batch } from '@bevzip/ir';
import type { DataSpec } from './schema';

/** Training and held-out evaluation frames of a pipeline. */
export interface PipelineFrames {
  train: Frame[];
  val: Frame[];
  /** One line saying what the data is, for logs and the report. */
  description: string;
}

/**
 * Reads the frames a pipeline's `data` names: synthetic scenes 0…scenes−1 (validation scenes from
 * `VAL_FIRST_SCENE` on, the held-out range `bevzip train` validates on too), or a nuScenes-format
 * dataset whose last `valScenes` scenes (by name) are held out.
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
    const val = Array.from({ length: valScenes }, (_, i) => scene(VAL_FIRST_SCENE + i)).flat();
    return { train, val, description: `synthetic seed ${seed}: ${scenes} training + ${valScenes} held-out scenes of ${framesPerScene} frames` };
  }
  const { root, version, valScenes } = spec.nuscenes;
  try {
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
  } catch (e) {
    // The loader names file, record, field and what was expected; the CLI shows it without a stack.
    if (e instanceof NuScenesFormatError) throw new BevzipError(ERROR_CODES.DATA_FORMAT, `data.nuscenes: ${e.message}`, { cause: e });
    throw e;
  }
}

/** The model's task loss (heat map + regression + map) for the runtime; call inside a tidy or gradient scope. */
export function pipelineTaskLoss(cfg: TaskConfig): (outputs: Record<string, tf.Tensor>, batch: Batch) => tf.Scalar {
  return (outputs, batch) => {
    const targets = targetTensors(batch.targets as HostTargets);
    // Called inside the runtime's gradient scope, which frees the targets and the other terms.
    return taskLoss({ heatmap: outputs.heatmap, reg: outputs.reg, map: outputs.map }, targets, cfg).total;
  };
}
