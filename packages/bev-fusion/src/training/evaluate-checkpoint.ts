import type { Frame } from '@bevzip/driving-data';
import { taskConfigForModel } from '../task/from-model';
import { loadModelCheckpoint, type ModelInfo } from './model-checkpoint';
import { validateModel, type ValidateOptions, type ValidationResult } from './validate-model';
import { loadValidationFrames, resolveFramesSpec, type EvaluatedSplit } from './validation-split';

/** Options of {@link evaluateCheckpoint}. */
export interface EvaluateCheckpointOptions extends ValidateOptions {
  /** Validation split: the standard split (`STANDARD_VALIDATION_SPLIT`) with these fields replaced. */
  dataSeed?: number;
  valScenes?: number;
  framesPerScene?: number;
  /** Only the first N frames of the split (its first ⌈N / framesPerScene⌉ scenes are generated). */
  valFrames?: number;
  /** Frames to use instead of the split. */
  frames?: readonly Frame[];
  /** Cache folder of the split (default `bevzipCacheDir()`). */
  cacheDir?: string;
  /** Status lines (data generation, cache hits). */
  log?: (line: string) => void;
  /** A corrupted cache file being regenerated. */
  warn?: (message: string) => void;
}

/** The checkpoint's validation metrics and what it is. */
export interface CheckpointEvaluation extends ValidationResult {
  checkpoint: string;
  dir: string;
  model: string;
  modality: string;
  dataSeed: number;
  split: EvaluatedSplit;
}

/**
 * Evaluates a model checkpoint (path or `builtin:<name>`) on the standard synthetic validation split
 * (cached on disk), or the split or frames the options name. The result keeps per-frame results
 * (`perFrame`) for bootstrap intervals.
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
    const { frames, split } = framesFor(options);
    const cfg = taskConfigForModel(ck.info.config, ck.info.modality);
    const result = await validateModel(ck.graph, ck.params, frames, cfg, options);
    return {
      ...result,
      checkpoint: ref,
      dir: ck.dir,
      model: describe(ck.info),
      modality: ck.info.modality,
      dataSeed: split.dataSeed,
      split,
    };
  } finally {
    ck.params.dispose();
  }
}

/** The evaluation frames: given ones, or the (first `valFrames` frames of the) cached split. */
function framesFor(options: EvaluateCheckpointOptions): { frames: readonly Frame[]; split: EvaluatedSplit } {
  const spec = { dataSeed: options.dataSeed, scenes: options.valScenes, framesPerScene: options.framesPerScene, valFrames: options.valFrames };
  if (!options.frames) return loadValidationFrames(spec, options);
  const full = resolveFramesSpec(spec);
  const frames = options.valFrames === undefined ? options.frames : options.frames.slice(0, options.valFrames);
  return { frames, split: { ...full, source: 'given', frames: frames.length, seconds: 0 } };
}

function describe(info: ModelInfo): string {
  return `${info.configName}-${info.modality}`;
}
