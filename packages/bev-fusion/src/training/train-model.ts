import * as path from 'node:path';
import { Subject } from 'rxjs';
import { z } from 'zod';
import {
  BevzipError,
  definePlugin,
  ERROR_CODES,
  Pipeline,
  ParamStore,
  type Graph,
  type TrainEvent,
} from '@bevzip/ir';
import type { Frame } from '@bevzip/driving-data';
import { buildBevFusion } from '../model/build';
import { BEV_FUSION_CONFIGS, type BevFusionConfig, type ModelModality } from '../model/config';
import { taskConfigForModel } from '../task/from-model';
import { taskLoss } from '../task/losses';
import { fusionParamsFromBranches } from './branch-init';
import {
  loadModelCheckpoint,
  MODEL_INFO_FORMAT,
  saveModelCheckpoint,
  type ModelInfo,
} from './model-checkpoint';
import { WorkerBatchStream } from '../stream/batch-stream';
import {
  frameDataSource,
  streamDataSource,
  syntheticFrames,
  targetTensors,
  VAL_FIRST_SCENE,
  type HostTargets,
} from './synthetic-split';
import { resolveTrainOptions, type TrainModelOptions } from './train-options';
import { validateModel, type ValidationResult } from './validate-model';

/** What {@link trainModel} hands back. */
export interface TrainModelResult {
  /** The model directory (graph.json, weights.bin, model.json). */
  dir: string;
  info: ModelInfo;
  /** Final validation metrics. */
  metrics: ValidationResult;
  /** Mean task loss of the first and the last steps run in this process (20 each, or half the steps). */
  lossStart?: number;
  lossEnd?: number;
}

const STAGE = 'train';

/**
 * What decides the trained weights (validation settings do not): a checkpoint written under other
 * settings cannot be continued.
 */
function trainFingerprint(o: ReturnType<typeof resolveTrainOptions>, trainFrames: number): Record<string, unknown> {
  const d = o.data;
  return {
    model: typeof o.model === 'string' ? o.model : o.model.name,
    modality: o.modality ?? null,
    from: o.from ?? null,
    fromBranches: o.fromBranches ?? null,
    steps: o.steps,
    seed: o.seed,
    batchSize: o.batchSize,
    lr: o.lr,
    weightDecay: o.weightDecay,
    warmupSteps: o.warmupSteps,
    clipNorm: o.clipNorm,
    data: { dataSeed: d.dataSeed, trainScenes: d.stream ? null : d.trainScenes, framesPerScene: d.framesPerScene, stream: d.stream, trainFrames },
  };
}

function metricEvents(step: number, m: ValidationResult): TrainEvent[] {
  const names = ['mAP', 'NDS', 'mATE', 'mASE', 'mAOE', 'mAVE', 'mAAE', 'mIoU'] as const;
  return names.map((n) => ({ type: 'metric', stage: STAGE, step, name: `val/${n}`, value: m[n] }));
}

function modelSource(o: ReturnType<typeof resolveTrainOptions>): {
  config: BevFusionConfig;
  modality: ModelModality;
  graph: Graph;
  params?: ParamStore;
} {
  if (o.from) {
    const ck = loadModelCheckpoint(o.from);
    if (o.modality && o.modality !== ck.info.modality) {
      ck.params.dispose();
      throw new BevzipError(
        ERROR_CODES.CONFIG,
        `trainModel: modality '${o.modality}' differs from checkpoint '${o.from}', which is '${ck.info.modality}'`,
      );
    }
    return { config: ck.info.config, modality: ck.info.modality, graph: ck.graph, params: ck.params };
  }
  const config = typeof o.model === 'string' ? BEV_FUSION_CONFIGS[o.model] : o.model;
  const modality = o.modality ?? 'fusion';
  const graph = buildBevFusion(config, modality);
  if (!o.fromBranches) return { config, modality, graph };
  if (modality !== 'fusion')
    throw new BevzipError(
      ERROR_CODES.CONFIG,
      `trainModel: fromBranches needs modality 'fusion', got '${modality}'`,
    );
  return { config, modality, graph, params: fusionParamsFromBranches(graph, config.name, o.fromBranches) };
}

/**
 * Trains a BEVFusion model on synthetic scenes with the runtime {@link Pipeline}: task loss,
 * AdamW with a cosine schedule and gradient-norm clipping, resumable checkpoints, validation every
 * `evalEvery` steps (as `metric` events) and at the end, then writes the model directory `out`.
 *
 * @example
 * const { metrics } = await trainModel({ model: 'tiny', modality: 'fusion', steps: 2000, out: 'runs/fusion' });
 */
export async function trainModel(options: TrainModelOptions): Promise<TrainModelResult> {
  const o = resolveTrainOptions(options);
  const log = o.log ?? (() => {});
  const { config, modality, graph, params: start } = modelSource(o);
  const cfg = taskConfigForModel(config, modality);
  try {
    const d = o.data;
    const useStream = d.stream && !d.train;
    const train: readonly Frame[] = useStream
      ? []
      : (d.train ??
        (log(`generating ${d.trainScenes * d.framesPerScene} training frames (data seed ${d.dataSeed})`),
        syntheticFrames(d.dataSeed, 0, d.trainScenes, d.framesPerScene)));
    const val: readonly Frame[] =
      d.val ??
      (log(`generating ${d.valScenes * d.framesPerScene} validation frames`),
      syntheticFrames(d.dataSeed, VAL_FIRST_SCENE, d.valScenes, d.framesPerScene));
    const events = new Subject<TrainEvent>();
    o.observe?.(events.asObservable());
    const losses: number[] = [];
    let live: { graph: Graph; params: ParamStore } | undefined;
    let final: ValidationResult | undefined;
    const validate = (g: Graph, p: ParamStore) =>
      validateModel(g, p, val, cfg, {
        runtime: o.evalRuntime,
        onFallback: (message) =>
          events.next({ type: 'warning', code: ERROR_CODES.ONNX_EXPORT, message, stage: STAGE }),
      });
    const probe = definePlugin({
      name: 'validation',
      version: '0.1.0',
      apiVersion: '^1.0.0',
      description: 'validates the model during and after training',
      options: z.object({}),
      hooks: () => ({
        setup: (ctx) => void (live = { graph: ctx.graph, params: ctx.params }),
        finalize: async (ctx) => {
          if (!ctx.completed) return;
          final = await validate(ctx.graph, ctx.params);
          for (const e of metricEvents(o.steps, final)) events.next(e);
        },
      }),
    });
    const stream = useStream
      ? new WorkerBatchStream({
          seed: d.dataSeed,
          batchSize: o.batchSize,
          framesPerScene: d.framesPerScene,
          task: cfg,
        })
      : undefined;
    const data = stream ? streamDataSource(stream) : frameDataSource(train, cfg, o.batchSize, o.seed);
    const pipeline = new Pipeline({
      seed: o.seed,
      graph,
      params: start,
      stages: [
        {
          name: STAGE,
          steps: o.steps,
          data: {
            async batch(step, ctx) {
              if (o.evalEvery > 0 && step > 0 && step % o.evalEvery === 0 && live) {
                for (const e of metricEvents(step, await validate(live.graph, live.params))) events.next(e);
              }
              return data.batch(step, ctx);
            },
          },
          taskLoss: (outputs, batch) =>
            taskLoss(
              { heatmap: outputs.heatmap, reg: outputs.reg, map: outputs.map },
              targetTensors(batch.targets as HostTargets),
              cfg,
            ).total,
          optimizer: { kind: 'adamw', lr: o.lr, weightDecay: o.weightDecay },
          schedule: { kind: 'cosine', totalSteps: o.steps, warmupSteps: o.warmupSteps },
          clipNorm: o.clipNorm,
        },
      ],
      checkpoint:
        o.checkpointEvery > 0
          ? {
              dir: o.checkpointDir ?? path.join(o.out, 'checkpoints'),
              every: o.checkpointEvery,
              resume: o.resume,
              // A rerun continues only the same training; any other settings are refused by name.
              fingerprint: trainFingerprint(o, train.length),
            }
          : undefined,
      stop: o.stop,
    }).use(probe());
    pipeline.events.subscribe({
      next: (e) => {
        if (e.type === 'step') losses.push(e.losses.task);
        events.next(e);
      },
    });
    let result;
    try {
      result = await pipeline.run();
    } finally {
      events.complete();
      await stream?.close();
    }
    try {
      const metrics = final!;
      const info: ModelInfo = {
        format: MODEL_INFO_FORMAT,
        version: 1,
        configName: config.name,
        config,
        modality,
        training: {
          seed: o.seed,
          steps: o.steps,
          batchSize: o.batchSize,
          lr: o.lr,
          weightDecay: o.weightDecay,
          clipNorm: o.clipNorm,
          warmupSteps: o.warmupSteps,
          from: o.from,
          fromBranches: o.fromBranches,
          data: {
            dataSeed: d.dataSeed,
            trainScenes: useStream ? undefined : d.trainScenes,
            stream: useStream,
            valScenes: d.valScenes,
            framesPerScene: d.framesPerScene,
            trainFrames: train.length,
          },
        },
        metrics: {
          mAP: metrics.mAP,
          NDS: metrics.NDS,
          mATE: metrics.mATE,
          mASE: metrics.mASE,
          mAOE: metrics.mAOE,
          mAVE: metrics.mAVE,
          mAAE: metrics.mAAE,
          mIoU: metrics.mIoU,
          frames: metrics.frames,
          dataSeed: d.dataSeed,
          runtime: metrics.runtime,
        },
      };
      saveModelCheckpoint(o.out, result.graph, result.params, info);
      const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined);
      const window = Math.max(1, Math.min(20, Math.floor(losses.length / 2)));
      return {
        dir: path.resolve(o.out),
        info,
        metrics,
        lossStart: mean(losses.slice(0, window)),
        lossEnd: mean(losses.slice(-window)),
      };
    } finally {
      result.params.dispose();
      result.masks.params.forEach((m) => m.dispose());
      result.masks.features.forEach((m) => m.dispose());
    }
  } finally {
    start?.dispose();
  }
}
