import type { Frame } from '@bevzip/driving-data';
import { taskConfigForModel } from '../task/from-model';
import { loadModelCheckpoint, type ModelInfo } from './model-checkpoint';
import { syntheticFrames, VAL_FIRST_SCENE } from './synthetic-split';
import { DEFAULT_SPLIT } from './train-options';
import { validateModel, type ValidateOptions, type ValidationResult } from './validate-model';

/** Options of {@link evaluateCheckpoint}. */
export interface EvaluateCheckpointOptions extends ValidateOptions {
  /** Validation set: default the one the model was trained with (model.json), else the default split. */
  dataSeed?: number;
  valScenes?: number;
  framesPerScene?: number;
  /** Frames to use instead of generated ones. */
  frames?: readonly Frame[];
  /** Status lines (data generation). */
  log?: (line: string) => void;
}

/** The checkpoint's validation metrics and what it is. */
export interface CheckpointEvaluation extends ValidationResult {
  checkpoint: string;
  dir: string;
  model: string;
  modality: string;
  dataSeed: number;
}

/**
 * Evaluates a model checkpoint (path or `builtin:<name>`) on the synthetic validation split: the
 * same scenes `trainModel` validates on, unless overridden.
 *
 * @example
 * const r = await evaluateCheckpoint('builtin:tiny-fusion');
 * console.log(r.mAP, r.NDS, r.mIoU);
 */
export async function evaluateCheckpoint(
  ref: string,
  options: EvaluateCheckpointOptions = {},
): Promise<CheckpointEvaluation> {
  const ck = loadModelCheckpoint(ref);
  try {
    const trained = (ck.info.training?.data ?? {}) as Partial<{
      dataSeed: number;
      valScenes: number;
      framesPerScene: number;
    }>;
    const dataSeed = options.dataSeed ?? trained.dataSeed ?? DEFAULT_SPLIT.dataSeed;
    const valScenes = options.valScenes ?? trained.valScenes ?? DEFAULT_SPLIT.valScenes;
    const framesPerScene = options.framesPerScene ?? trained.framesPerScene ?? DEFAULT_SPLIT.framesPerScene;
    let frames = options.frames;
    if (!frames) {
      options.log?.(`generating ${valScenes * framesPerScene} validation frames (data seed ${dataSeed})`);
      frames = syntheticFrames(dataSeed, VAL_FIRST_SCENE, valScenes, framesPerScene);
    }
    const cfg = taskConfigForModel(ck.info.config, ck.info.modality);
    const result = await validateModel(ck.graph, ck.params, frames, cfg, options);
    return {
      ...result,
      checkpoint: ref,
      dir: ck.dir,
      model: describe(ck.info),
      modality: ck.info.modality,
      dataSeed,
    };
  } finally {
    ck.params.dispose();
  }
}

function describe(info: ModelInfo): string {
  return `${info.configName}-${info.modality}`;
}
