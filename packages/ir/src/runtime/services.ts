import type * as tf from '@tensorflow/tfjs';
import type { Graph } from '../graph';
import type { ParamStore } from '../params';
import { clipGradNorm, createOptimizer, learningRate, type Optimizer, type OptimizerConfig, type OptimizerState, type ScheduleConfig } from '../train';

/** Where a run stands: `step` steps of stage `stage` (by index) are complete. */
export interface RunPosition {
  stage: number;
  step: number;
}

/** What the runtime saves at a checkpoint. */
export interface RuntimeCheckpoint {
  graph: Graph;
  params: ParamStore;
  optimizer?: OptimizerState;
  seed: number;
  masks?: { params: ReadonlyMap<string, tf.Tensor>; features: ReadonlyMap<string, tf.Tensor> };
  position: RunPosition;
  extra?: Record<string, unknown>;
  /** Plugin-owned tensors as `<plugin>/<name>`. */
  extraTensors?: ReadonlyMap<string, tf.Tensor>;
}

/** What a checkpoint gives back. The caller owns `params` and mask tensors. */
export interface RestoredCheckpoint {
  graph: Graph;
  params: ParamStore;
  optimizerState?: OptimizerState;
  masks?: { params: Map<string, tf.Tensor>; features: Map<string, tf.Tensor> };
  position: RunPosition;
  extra?: Record<string, unknown>;
  extraTensors?: ReadonlyMap<string, tf.Tensor>;
}

/** The storage seam for checkpoints (directories under a root). */
export interface CheckpointStore {
  /** Writes the checkpoint taken after `globalStep` steps of the whole run; returns its directory. */
  write(root: string, globalStep: number, data: RuntimeCheckpoint): string | Promise<string>;
  read(dir: string): RestoredCheckpoint | Promise<RestoredCheckpoint>;
  /** The newest complete checkpoint directory under `root`, if any. */
  latest(root: string): string | undefined | Promise<string | undefined>;
  /** Every checkpoint under `root` with the global step it was taken after; with `remove`, enables retention. */
  list?(root: string): { dir: string; globalStep: number }[] | Promise<{ dir: string; globalStep: number }[]>;
  remove?(dir: string): void | Promise<void>;
  /** Cleans what interrupted writes left under `root`; returns one line per folder removed or put back. */
  recover?(root: string): string[] | Promise<string[]>;
  /** Folders under `root` that look like checkpoints but are not complete (e.g. no manifest). */
  incomplete?(root: string): string[] | Promise<string[]>;
}

/** The optimizer, schedule and clipping the runtime calls; swappable for tests and other backends. */
export interface TrainingServices {
  createOptimizer(config: OptimizerConfig, graph: Graph): Optimizer;
  learningRate(schedule: ScheduleConfig, baseLr: number, step: number): number;
  clipGradNorm(grads: ReadonlyMap<string, tf.Tensor>, maxNorm: number): { grads: Map<string, tf.Tensor>; norm: number };
}

export const DEFAULT_TRAINING_SERVICES: TrainingServices = { createOptimizer, learningRate, clipGradNorm };
