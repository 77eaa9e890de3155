import type * as tf from '@tensorflow/tfjs';
import type { Graph } from '../graph';
import type { ParamStore } from '../params';
import type { OptimizerConfig, ScheduleConfig } from '../train';
import type { Batch, DataSource } from './data-source';
import type { ExportOptions } from './export-artifact';
import type { CheckpointStore, TrainingServices } from './services';
import type { TeacherRunner } from './teacher';

/** One stage: train (or, with `steps: 0`, only score) the student with some plugins active. */
export interface StageConfig {
  name: string;
  /** Optimizer steps; 0 runs transform and score only. */
  steps: number;
  data: DataSource;
  /** The model's task loss on the student outputs. */
  taskLoss: (outputs: Record<string, tf.Tensor>, batch: Batch) => tf.Scalar;
  /** Default `{ kind: 'adam', lr: 1e-3 }`. */
  optimizer?: OptimizerConfig;
  /** Default constant. */
  schedule?: ScheduleConfig;
  /** Clip gradients to this global L2 norm. */
  clipNorm?: number;
  /**
   * Every N steps (and at the stage's first step), measure each loss term's own gradient norm into
   * the step event's `termGradNorms`: one extra forward and backward per term on those steps, so
   * loss hooks run more than once there. Default 0: never.
   */
  termGradientEvery?: number;
  /** A frozen teacher: graph + weights (run by the interpreter) or any {@link TeacherRunner}. */
  teacher?: { graph: Graph; params: ParamStore } | TeacherRunner;
  /** Names of the plugins active in this stage; default all. Setup, observe and finalize always run for all. */
  plugins?: string[];
}

export interface CheckpointOptions {
  /** Root folder; each checkpoint is a subfolder. */
  dir: string;
  /** Write a checkpoint every N completed steps of a stage (and at the end of each stage). */
  every: number;
  /**
   * Resume from the newest checkpoint under `dir` when there is one (default true). `'required'`
   * fails with E_CHECKPOINT when there is none to resume from, naming incomplete ones it skipped.
   */
  resume?: boolean | 'required';
  /** Mid-stage checkpoints kept (the newest ones); every stage-end checkpoint is kept too. Default 3. */
  keepLast?: number;
  /**
   * What the run is (resolved pipeline, model hash, …), stored in each checkpoint. Resuming from a
   * checkpoint whose fingerprint differs fails with E_CHECKPOINT naming each differing field.
   */
  fingerprint?: Record<string, unknown>;
  /** Default: directories in the format of the checkpoint module. */
  store?: CheckpointStore;
}

export interface PipelineConfig {
  /** Drives weight init, data order and every plugin's random stream. */
  seed: number;
  /** The student graph at the start of the first stage. */
  graph: Graph;
  /** Starting weights (copied; the caller keeps its store). Default: initialised from `seed`. */
  params?: ParamStore;
  stages: StageConfig[];
  checkpoint?: CheckpointOptions;
  /**
   * Cooperative stop: checked at every step boundary. Once aborted, the run writes a checkpoint
   * there (when checkpointing) and fails with E_INTERRUPTED naming the position, so it can resume.
   */
  stop?: AbortSignal;
  /**
   * Build the deployable ONNX artifact after the last stage (plugins' `export` hooks, then one
   * serialization); the result is `PipelineResult.artifact`. Default: no artifact.
   */
  export?: ExportOptions;
  /** Stop with E_NON_FINITE_LOSS after this many consecutive skipped steps. Default 5. */
  maxNonFiniteSteps?: number;
  services?: TrainingServices;
}
