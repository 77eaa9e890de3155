import { optimizerConfigSchema, scheduleConfigSchema } from '@bevzip/ir';
import { z } from 'zod';

/** A checkpoint reference: a model directory path, or `builtin:<name>` for a shipped teacher. */
const checkpointRef = z.string().min(1, 'expected a checkpoint path or builtin:<name>');

/** A model built from scratch by a builder with a named config. */
const builtModel = z.strictObject({
  builder: z.literal('bev-fusion'),
  config: z.enum(['micro', 'tiny', 'small']),
  modality: z.enum(['fusion', 'camera', 'lidar']).default('fusion'),
});

/** A model or teacher: a builder + config, a checkpoint, or the checkpoint reference as a bare string. */
export const modelRefSchema = z.union([checkpointRef, builtModel, z.strictObject({ checkpoint: checkpointRef })], {
  error: "expected a checkpoint path, 'builtin:<name>', { checkpoint: <path> } or { builder: 'bev-fusion', config: micro|tiny|small, modality }",
});

const positiveInt = z.number().int().min(1);

export const dataSchema = z.union([
  z.strictObject({
    synthetic: z.strictObject({
      seed: z.number().int().min(0),
      /** Training scenes. */
      scenes: positiveInt,
      framesPerScene: positiveInt.default(3),
      /** Held-out scenes evaluated at the end. */
      valScenes: positiveInt.default(1),
    }),
    batchSize: positiveInt.default(1),
  }),
  z.strictObject({
    nuscenes: z.strictObject({
      root: z.string().min(1),
      version: z.string().min(1),
      /** The last `valScenes` scenes (by name) are held out for evaluation. */
      valScenes: positiveInt.default(1),
    }),
    batchSize: positiveInt.default(1),
  }),
], { error: 'expected { synthetic: { seed, scenes } } or { nuscenes: { root, version } }' });

export const pluginUseSchema = z.strictObject({
  /** An npm package name (a plugin in development loads with `--plugin-dev`). */
  use: z.string().min(1, 'expected a plugin package name'),
  /**
   * Which of the package's named plugins to use (its package.json `bevzip.plugins`, its `plugins`
   * export); without it, the package's `register`.
   */
  plugin: z.string().min(1, 'expected the name of one of the package’s plugins').optional(),
  options: z.record(z.string(), z.unknown()).default({}),
});

export const stageSchema = z.strictObject({
  name: z.string().min(1),
  /** Optimizer steps; 0 runs transform and score only. */
  steps: z.number().int().min(0),
  plugins: z.array(pluginUseSchema).default([]),
  /** Default: the pipeline's `training.optimizer`. */
  optimizer: optimizerConfigSchema.omit({ groups: true }).optional(),
  /** `cosine` without `totalSteps` spans the stage. Default: the pipeline's `training.schedule`. */
  schedule: z.union([scheduleConfigSchema, z.strictObject({ kind: z.literal('cosine'), minLr: z.number().min(0).optional(), warmupSteps: z.number().int().min(0).optional() })]).optional(),
  clipNorm: z.number().positive().optional(),
});

export const exportSchema = z.strictObject({
  /** Write `compressed.onnx` (and `dense.onnx`). */
  onnx: z.boolean().default(true),
  /** Evaluate dense and compressed models in onnxruntime on the held-out frames. */
  evaluate: z.boolean().default(true),
  /** Timed onnxruntime runs per model for the latency figure: median, 1 thread, the files in alternation. */
  latencyRuns: z.number().int().min(0).default(20),
  /** Write `report.html`. */
  report: z.boolean().default(true),
  /**
   * Bake the camera rig into both files: `cam_bev_index` of the data's (single) calibration becomes
   * a constant, so the file needs no per-frame geometry and onnxruntime sorts the BEV pool's cells
   * once at load. Refused when the frames have more than one calibration. No effect without cameras.
   */
  fixedRig: z.boolean().default(false),
});

export const trainingSchema = z.strictObject({
  /** bevfusion.md §3: AdamW lr 1e-3, weight decay 0.01, cosine, gradient-norm clip 35. */
  optimizer: optimizerConfigSchema.omit({ groups: true }).default({ kind: 'adamw', lr: 1e-3, weightDecay: 0.01 }),
  schedule: z.enum(['constant', 'cosine']).default('cosine'),
  clipNorm: z.number().positive().default(35),
  /** Checkpoint every N steps (and at each stage end), so `--resume` can continue. */
  checkpointEvery: positiveInt.default(50),
  /**
   * Every N steps, log each loss term's own gradient norm (`termGradNorms` in events.jsonl): the
   * share of the update a distillation term drives. Costs a forward and backward per term on those
   * steps. 0: never.
   */
  termGradientEvery: z.number().int().min(0).default(0),
});

/** The pipeline file: what `bevzip compress --pipeline FILE` runs. */
export const pipelineFileSchema = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  /** Drives weight init, data order and every plugin's random stream. */
  seed: z.number().int().min(0).default(0),
  model: modelRefSchema,
  /** A frozen teacher for distillation; `model` means the starting student weights. */
  teacher: z.union([z.literal('model'), modelRefSchema]).optional(),
  data: dataSchema,
  stages: z
    .array(stageSchema)
    .min(1, 'expected at least one stage')
    .superRefine((stages, ctx) => {
      const seen = new Set<string>();
      stages.forEach((s, i) => {
        if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `expected a unique stage name; '${s.name}' is used twice` });
        seen.add(s.name);
      });
    }),
  training: trainingSchema.default(trainingSchema.parse({})),
  export: exportSchema.default(exportSchema.parse({})),
});

export type ModelRef = z.output<typeof modelRefSchema>;
export type DataSpec = z.output<typeof dataSchema>;
export type StageSpec = z.output<typeof stageSchema>;
export type PluginUse = z.output<typeof pluginUseSchema>;
/** A validated pipeline file with defaults filled in. */
export type PipelineFile = z.output<typeof pipelineFileSchema>;
