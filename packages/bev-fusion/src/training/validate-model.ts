import type * as tf from '@tensorflow/tfjs';
import {
  BevzipError,
  createOrtSession,
  ERROR_CODES,
  exportOnnx,
  run,
  runOrt,
  type Graph,
  type ParamStore,
} from '@bevzip/ir';
import { headlineMetrics, type Frame, type FrameEvaluation } from '@bevzip/driving-data';
import { evaluateModel, type ModelOutputs, type PredictFn } from '../task/evaluate';
import type { TaskConfig } from '../task/config';
import type { HeadlineMetrics } from './model-checkpoint';

/** Where a model runs for evaluation: `auto` tries onnxruntime and falls back to the interpreter. */
export type EvalRuntime = 'auto' | 'onnxruntime' | 'interpreter';

/** Options of {@link validateModel}. */
export interface ValidateOptions {
  /** Default `auto`. */
  runtime?: EvalRuntime;
  /** Frames per forward pass (default 2). */
  batchSize?: number;
  /** Called once when onnxruntime cannot serve and the interpreter takes over. */
  onFallback?: (reason: string) => void;
  onProgress?: (done: number, total: number) => void;
}

/** Headline metrics of a validation run plus what they were measured with. */
export interface ValidationResult extends HeadlineMetrics {
  frames: number;
  runtime: 'onnxruntime' | 'interpreter';
  /** Classes with ground truth in the set; mAP, NDS and TP errors average over these. */
  classes: string[];
  /** AP per class (averaged over distance thresholds). */
  classAps: Record<string, number>;
  gtCounts: Record<string, number>;
  /** The evaluation kept per frame, for bootstrap intervals (`compareEvaluations`). */
  perFrame: FrameEvaluation;
}

const OUTPUTS = ['heatmap', 'reg', 'map'] as const;

/** A predictor on onnxruntime: the graph is exported once with the weights as they are now. */
async function ortPredictor(
  graph: Graph,
  params: ParamStore,
): Promise<{ predict: PredictFn; release: () => Promise<void> }> {
  const outputs = OUTPUTS.filter((o) => graph.outputs.includes(o));
  const session = await createOrtSession(exportOnnx(graph, params), { threads: 1 });
  const predict: PredictFn = async (feeds) => {
    const used = Object.fromEntries(Object.entries(feeds).filter(([n]) => session.inputNames.includes(n)));
    const out = await runOrt(session, used, [...outputs]);
    const dense = (n: string) =>
      out[n] ? { data: out[n].data as Float32Array, shape: out[n].dims } : undefined;
    return { heatmap: dense('heatmap')!, reg: dense('reg')!, map: dense('map') };
  };
  return { predict, release: () => session.release() };
}

function interpreterPredictor(graph: Graph, params: ParamStore): PredictFn {
  return (feeds) =>
    run(graph, params, feeds, { training: false }).outputs as unknown as ModelOutputs &
      Record<string, tf.Tensor>;
}

/**
 * Evaluates a BEVFusion graph on frames: nuScenes mAP, NDS and the five TP errors over the classes
 * present in the set (SYNTHETIC_CONFIG ranges), and map mIoU. Runs in onnxruntime (one export) when
 * it can, else in the tfjs interpreter.
 */
export async function validateModel(
  graph: Graph,
  params: ParamStore,
  frames: readonly Frame[],
  cfg: TaskConfig,
  options: ValidateOptions = {},
): Promise<ValidationResult> {
  const runtime = options.runtime ?? 'auto';
  let predict: PredictFn | undefined;
  let release = async () => {};
  if (runtime !== 'interpreter') {
    try {
      ({ predict, release } = await ortPredictor(graph, params));
    } catch (e) {
      const exportFailed = e instanceof BevzipError && e.code === ERROR_CODES.ONNX_EXPORT;
      if (runtime === 'onnxruntime' || !exportFailed) throw e;
      options.onFallback?.(`evaluation runs in the tfjs interpreter: ${(e as Error).message}`);
    }
  }
  const used = predict ? 'onnxruntime' : 'interpreter';
  try {
    const res = await evaluateModel(frames, predict ?? interpreterPredictor(graph, params), cfg, {
      batchSize: options.batchSize ?? 2,
      onProgress: options.onProgress,
    });
    const m = res.presentClassMetrics ?? res.classMetrics;
    return {
      ...headlineMetrics(m, res.map?.meanIou ?? Number.NaN),
      frames: frames.length,
      runtime: used,
      classes: Object.keys(m.meanDistAps),
      classAps: { ...m.meanDistAps },
      gtCounts: res.gtCounts,
      perFrame: res.perFrame,
    };
  } finally {
    await release();
  }
}
