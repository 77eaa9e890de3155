import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { createOrtSession, runOrt } from '@bevzip/ir';
import type { Frame, FrameEvaluation } from '@bevzip/driving-data';
import { evaluateModel, loadValidationFrames, type EvaluatedSplit, type PredictFn, type TaskConfig } from '@bevzip/bev-fusion';
export { interleavedOrtLatencies } from '../pipeline/evaluate';

/** Settings every method benchmark shares. */
export interface MethodBenchCommon {
  batchSize: number;
  lr: number;
  /** Synthetic training scenes (3 frames each) of data seed 0. */
  trainScenes: number;
  /** Only the first N frames of the standard validation split (default all of it). */
  valFrames?: number;
  log: (line: string) => void;
}

/** The validation frames of a benchmark: the standard split (cached), or its first `valFrames` frames. */
export function benchValidationFrames(o: Pick<MethodBenchCommon, 'valFrames' | 'log'>): { frames: Frame[]; split: EvaluatedSplit } {
  return loadValidationFrames({ valFrames: o.valFrames }, { log: o.log, warn: (w) => o.log(`warning: ${w}`) });
}

/** mAP, NDS and map mIoU (NaN without a map head) of an ONNX model on frames in onnxruntime (1 thread), with the per-frame results. */
export async function evaluateOnnx(
  model: Uint8Array,
  frames: readonly Frame[],
  cfg: TaskConfig,
): Promise<{ mAP: number; NDS: number; mIoU: number; perFrame: FrameEvaluation }> {
  const session = await createOrtSession(model, { threads: 1 });
  try {
    const predict: PredictFn = async (feeds) => {
      const used = Object.fromEntries(Object.entries(feeds).filter(([n]) => session.inputNames.includes(n)));
      const out = await runOrt(session, used, session.outputNames.filter((n) => ['heatmap', 'reg', 'map'].includes(n)));
      const dense = (n: string) => (out[n] ? { data: out[n].data as Float32Array, shape: out[n].dims } : undefined);
      return { heatmap: dense('heatmap')!, reg: dense('reg')!, map: dense('map') };
    };
    const res = await evaluateModel(frames, predict, cfg, { batchSize: 2 });
    const m = res.presentClassMetrics ?? res.classMetrics;
    return { mAP: m.meanAp, NDS: m.ndScore, mIoU: res.map?.meanIou ?? Number.NaN, perFrame: res.perFrame };
  } finally {
    await session.release();
  }
}

/** What a benchmark ran on. */
export function machineInfo(): { cpus: string; cores: number; node: string; platform: string } {
  const cpus = os.cpus();
  return { cpus: cpus[0]?.model ?? 'unknown', cores: cpus.length, node: process.version, platform: `${os.platform()} ${os.arch()}` };
}

/** What a timing benchmark ran on, with the tfjs backend and the load averages (latency figures depend on both). */
export function machineWithLoad(): { cpus: number; cpuModel: string; node: string; backend: string; loadAverage: number[] } {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    backend: tf.getBackend(),
    loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}
