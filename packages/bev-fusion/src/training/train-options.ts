import type { Observable } from 'rxjs';
import { z } from 'zod';
import { BevzipError, ERROR_CODES, type TrainEvent } from '@bevzip/ir';
import type { Frame } from '@bevzip/driving-data';
import { MODALITIES, type BevFusionConfig, type ModelModality } from '../model/config';
import type { BranchCheckpoints } from './branch-init';
import type { EvalRuntime } from './validate-model';

/** Model sizes `trainModel` knows by name. */
export const MODEL_NAMES = ['micro', 'tiny', 'small'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** Defaults of the synthetic split: 120 training scenes (360 frames) and a 48-frame validation set. */
export const DEFAULT_SPLIT = { dataSeed: 0, trainScenes: 120, valScenes: 16, framesPerScene: 3 } as const;

/** Options of `trainModel`. */
export interface TrainModelOptions {
  /** A named config or a config object (default `tiny`); ignored with `from`. */
  model?: ModelName | BevFusionConfig;
  /** Start from this checkpoint (a path or `builtin:<name>`) instead of fresh weights. */
  from?: string;
  /**
   * For a fusion model: start from a camera-only and a LiDAR-only model of the same config
   * (see `fusionParamsFromBranches`) instead of fresh weights.
   */
  fromBranches?: BranchCheckpoints;
  /** Default `fusion` (or the checkpoint's). */
  modality?: ModelModality;
  steps: number;
  /** Model directory written at the end. */
  out: string;
  /** Weight init and batch order. Default 0. */
  seed?: number;
  /** Default 2. */
  batchSize?: number;
  /** AdamW: lr (default 1e-3, cosine to 0), decoupled weight decay (0.01), warm-up steps (0). */
  lr?: number;
  weightDecay?: number;
  warmupSteps?: number;
  /** Global gradient-norm clip (default 35). */
  clipNorm?: number;
  /**
   * Synthetic data; `train`/`val` frames given here are used instead of generated ones. With
   * `stream`, training batches come from a worker thread drawing fresh scenes at every step
   * (`trainScenes` is then unused) instead of a fixed set of frames generated up front.
   */
  data?: {
    dataSeed?: number;
    trainScenes?: number;
    valScenes?: number;
    framesPerScene?: number;
    stream?: boolean;
    train?: readonly Frame[];
    val?: readonly Frame[];
  };
  /** Validate every N steps (0 = only at the end). Default 0. */
  evalEvery?: number;
  /** Runtime checkpoint every N steps (0 = none). Default 200. */
  checkpointEvery?: number;
  /** Default `<out>/checkpoints`. */
  checkpointDir?: string;
  /** Resume from the newest runtime checkpoint (default true). */
  resume?: boolean;
  /** Default `auto` (onnxruntime, interpreter as fallback). */
  evalRuntime?: EvalRuntime;
  /** Receives the run's event stream (steps, validation metrics, checkpoints) before it starts. */
  observe?: (events: Observable<TrainEvent>) => void;
  /** Status lines outside the event stream (data generation). */
  log?: (line: string) => void;
  /**
   * Aborting it stops training at the next step boundary; with checkpoints on, one is written there
   * and the run fails with E_INTERRUPTED, so the same call (with `resume`) continues it.
   */
  stop?: AbortSignal;
}

const count = (min: number) => z.number().int().min(min);
const schema = z.object({
  model: z.union([z.enum(MODEL_NAMES), z.looseObject({ name: z.string() })]).default('tiny'),
  from: z.string().min(1).optional(),
  fromBranches: z.object({ camera: z.string().min(1), lidar: z.string().min(1) }).optional(),
  modality: z.enum(MODALITIES).optional(),
  steps: count(1),
  out: z.string().min(1),
  seed: count(0).default(0),
  batchSize: count(1).default(2),
  lr: z.number().positive().default(1e-3),
  weightDecay: z.number().min(0).default(0.01),
  warmupSteps: count(0).default(0),
  clipNorm: z.number().positive().default(35),
  data: z
    .looseObject({
      dataSeed: count(0).optional(),
      trainScenes: count(1).optional(),
      valScenes: count(1).optional(),
      framesPerScene: count(1).optional(),
      stream: z.boolean().optional(),
    })
    .default({}),
  evalEvery: count(0).default(0),
  checkpointEvery: count(0).default(200),
  checkpointDir: z.string().min(1).optional(),
  resume: z.boolean().default(true),
  evalRuntime: z.enum(['auto', 'onnxruntime', 'interpreter']).default('auto'),
});

/** Options with defaults filled in and checked. */
export type ResolvedTrainOptions = Omit<
  Required<TrainModelOptions>,
  'from' | 'fromBranches' | 'modality' | 'checkpointDir' | 'data' | 'observe' | 'log' | 'stop'
> &
  Pick<TrainModelOptions, 'from' | 'fromBranches' | 'modality' | 'checkpointDir' | 'observe' | 'log' | 'stop'> & {
    model: ModelName | BevFusionConfig;
    data: {
      dataSeed: number;
      trainScenes: number;
      valScenes: number;
      framesPerScene: number;
      stream: boolean;
      train?: readonly Frame[];
      val?: readonly Frame[];
    };
  };

/**
 * Fills in the defaults of {@link TrainModelOptions}.
 * @throws BevzipError (E_CONFIG) naming the first invalid field and what it must be.
 */
export function resolveTrainOptions(options: TrainModelOptions): ResolvedTrainOptions {
  const { observe, log, stop, data, ...rest } = options;
  const parsed = schema.safeParse({ ...rest, data: data && { ...data, train: undefined, val: undefined } });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BevzipError(
      ERROR_CODES.CONFIG,
      `trainModel: ${issue.path.join('.') || '(options)'}: ${issue.message}`,
    );
  }
  const p = parsed.data;
  return {
    ...p,
    model: options.model ?? 'tiny',
    observe,
    log,
    stop,
    data: {
      dataSeed: p.data.dataSeed ?? DEFAULT_SPLIT.dataSeed,
      trainScenes: p.data.trainScenes ?? DEFAULT_SPLIT.trainScenes,
      valScenes: p.data.valScenes ?? DEFAULT_SPLIT.valScenes,
      framesPerScene: p.data.framesPerScene ?? DEFAULT_SPLIT.framesPerScene,
      stream: p.data.stream ?? false,
      train: data?.train,
      val: data?.val,
    },
  };
}
