import * as tf from '@tensorflow/tfjs';
import type { Frame } from '@bevzip/driving-data';
import { evaluateModel, makeBatch, disposeBatch, type ModelOutputs, type TaskConfig } from '@bevzip/bev-fusion';
import { createOrtSession, run, runOrt, type Graph, type ParamStore, type RunOptions } from '@bevzip/ir';

/** Accuracy and speed of one exported model. */
export interface OnnxScore {
  /** Over the model's classes present in the held-out ground truth (all classes when none is). */
  mAP: number;
  NDS: number;
  /** Map segmentation mIoU; NaN without a map head. */
  mIoU: number;
  /** Median onnxruntime wall time of one single-frame forward pass. */
  latencyMs: number;
}

/**
 * Evaluates an ONNX model in onnxruntime-node on `frames` with the nuScenes metrics (mAP, NDS) and
 * map mIoU, and times `latencyRuns` single-frame forwards (median, after one warm-up).
 */
export async function scoreOnnx(model: Uint8Array, frames: readonly Frame[], cfg: TaskConfig, options: { latencyRuns: number; threads?: number }): Promise<OnnxScore> {
  const session = await createOrtSession(model, { threads: options.threads ?? 2 });
  try {
    const outputs = [...session.outputNames];
    const run = async (feeds: Record<string, tf.Tensor>) => {
      const used = Object.fromEntries(Object.entries(feeds).filter(([n]) => session.inputNames.includes(n)));
      return runOrt(session, used, outputs);
    };
    const predict = async (feeds: Record<string, tf.Tensor>): Promise<ModelOutputs> => {
      const out = await run(feeds);
      const dense = (n: string) => out[n] && { data: out[n].data as Float32Array, shape: out[n].dims };
      return { heatmap: dense('heatmap'), reg: dense('reg'), map: dense('map') };
    };
    const result = await evaluateModel(frames, predict, cfg);
    const m = result.presentClassMetrics ?? result.classMetrics;
    let latencyMs = NaN;
    if (options.latencyRuns > 0 && frames.length > 0) {
      const batch = makeBatch(frames.slice(0, 1), cfg);
      try {
        await run(batch.feeds);
        const times: number[] = [];
        for (let i = 0; i < options.latencyRuns; i++) {
          const t0 = performance.now();
          await run(batch.feeds);
          times.push(performance.now() - t0);
        }
        times.sort((a, b) => a - b);
        latencyMs = times[Math.floor(times.length / 2)];
      } finally {
        disposeBatch(batch);
      }
    }
    return { mAP: m.meanAp, NDS: m.ndScore, mIoU: result.map?.meanIou ?? NaN, latencyMs };
  } finally {
    await session.release();
  }
}

/**
 * Evaluates a graph in the tfjs interpreter with its masks and quantizer transforms, for models whose
 * activation quantization has no ONNX form here; same metrics as {@link scoreOnnx}, no latency.
 */
export async function scoreInterpreter(
  model: { graph: Graph; params: ParamStore; options: RunOptions },
  frames: readonly Frame[],
  cfg: TaskConfig,
): Promise<Omit<OnnxScore, 'latencyMs'>> {
  const predict = (feeds: Record<string, tf.Tensor>) => run(model.graph, model.params, feeds, { ...model.options, training: false }).outputs as unknown as ModelOutputs;
  const result = await evaluateModel(frames, predict, cfg);
  const m = result.presentClassMetrics ?? result.classMetrics;
  return { mAP: m.meanAp, NDS: m.ndScore, mIoU: result.map?.meanIou ?? NaN };
}
