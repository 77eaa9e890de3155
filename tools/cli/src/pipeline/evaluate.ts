import * as tf from '@tensorflow/tfjs';
import type { Frame } from '@bevzip/driving-data';
import { evaluateModel, type ModelOutputs, type TaskConfig } from '@bevzip/bev-fusion';
import { interleavedMedians } from '../bench/timing';
import { createOrtSession, run, runOrt, type Graph, type ParamStore, type RunOptions } from '@bevzip/ir';

/** Accuracy and speed of one exported model. */
export interface OnnxScore {
  /** Over the model's classes present in the held-out ground truth (all classes when none is). */
  mAP: number;
  NDS: number;
  /** Map segmentation mIoU; NaN without a map head. */
  mIoU: number;
}

/**
 * Evaluates an ONNX model in onnxruntime-node on `frames` with the nuScenes metrics (mAP, NDS) and
 * map mIoU. Latency is measured apart, all models in alternation: {@link interleavedOrtLatencies}.
 */
export async function scoreOnnx(model: Uint8Array, frames: readonly Frame[], cfg: TaskConfig, options: { threads?: number } = {}): Promise<OnnxScore> {
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
    return { mAP: m.meanAp, NDS: m.ndScore, mIoU: result.map?.meanIou ?? NaN };
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
): Promise<OnnxScore> {
  const predict = (feeds: Record<string, tf.Tensor>) => run(model.graph, model.params, feeds, { ...model.options, training: false }).outputs as unknown as ModelOutputs;
  const result = await evaluateModel(frames, predict, cfg);
  const m = result.presentClassMetrics ?? result.classMetrics;
  return { mAP: m.meanAp, NDS: m.ndScore, mIoU: result.map?.meanIou ?? NaN };
}

/**
 * Median onnxruntime latencies (ms, 1 thread) of several models run in alternation on the same feeds
 * (each model gets the feeds it has inputs for), so a change in machine load hits all of them alike.
 */
export async function interleavedOrtLatencies(models: Uint8Array[], feeds: Record<string, tf.Tensor>, repeats: number, warmup = 3): Promise<number[]> {
  const sessions = await Promise.all(models.map((m) => createOrtSession(m, { threads: 1 })));
  try {
    const runs = sessions.map((session) => {
      const used = Object.fromEntries(Object.entries(feeds).filter(([n]) => session.inputNames.includes(n)));
      return () => runOrt(session, used);
    });
    return await interleavedMedians(runs, repeats, warmup);
  } finally {
    await Promise.all(sessions.map((s) => s.release()));
  }
}
