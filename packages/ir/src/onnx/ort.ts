import * as ort from 'onnxruntime-node';
import type * as tf from '@tensorflow/tfjs';

export interface OrtSessionOptions {
  /** Intra-op threads; default 1 so a training process keeps the other core. */
  threads?: number;
  /** Graph optimisation level; default 'all'. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

/** Opens an onnxruntime-node CPU session on model bytes or a file path. */
export async function createOrtSession(model: Uint8Array | string, options: OrtSessionOptions = {}): Promise<ort.InferenceSession> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: options.threads ?? 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: options.optimization ?? 'all',
  };
  return typeof model === 'string' ? ort.InferenceSession.create(model, sessionOptions) : ort.InferenceSession.create(model, sessionOptions);
}

export interface HostTensor {
  data: Float32Array | Int32Array;
  dims: number[];
}

/** Runs a session on host tensors (or tfjs tensors, read synchronously) and returns host tensors by name. */
export async function runOrt(
  session: ort.InferenceSession,
  feeds: Record<string, HostTensor | tf.Tensor>,
  outputs?: string[],
): Promise<Record<string, HostTensor>> {
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) {
    const host = 'dataSync' in t ? { data: t.dataSync() as Float32Array | Int32Array, dims: t.shape } : t;
    ortFeeds[name] = new ort.Tensor(host.data instanceof Int32Array ? 'int32' : 'float32', host.data, host.dims);
  }
  const result = outputs ? await session.run(ortFeeds, outputs) : await session.run(ortFeeds);
  const out: Record<string, HostTensor> = {};
  for (const [name, t] of Object.entries(result)) out[name] = { data: t.data as Float32Array | Int32Array, dims: [...t.dims] };
  return out;
}

export { ort };
