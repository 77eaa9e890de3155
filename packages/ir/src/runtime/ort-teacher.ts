import * as tf from '@tensorflow/tfjs';
import type { InferenceSession } from 'onnxruntime-node';
import { BevzipError, ERROR_CODES } from '../errors';
import type { Graph } from '../graph';
import { exportOnnx } from '../onnx/export';
import { createOrtSession, runOrt } from '../onnx/ort';
import type { ParamStore } from '../params';
import { interpreterTeacher, type TeacherRunner } from './teacher';

export interface OrtTeacherOptions {
  /** onnxruntime intra-op threads; default 1, leaving the other core to training. */
  threads?: number;
  /** Called once when the graph cannot be exported and the interpreter takes over. */
  onFallback?: (reason: string) => void;
}

/**
 * A frozen teacher run in onnxruntime-node: the graph is exported once per tap set with exactly those
 * values as outputs (forward-only work is several times faster there than in the wasm interpreter).
 * If an op cannot be exported, the interpreter serves instead and `onFallback` says why.
 */
export function ortTeacher(graph: Graph, params: ParamStore, options: OrtTeacherOptions = {}): TeacherRunner {
  const sessions = new Map<string, Promise<InferenceSession>>();
  const inputs = new Set(graph.inputs.map((i) => i.name));
  let fallback: TeacherRunner | undefined;
  const session = (taps: readonly string[]) => {
    const key = taps.join('\u0000');
    let s = sessions.get(key);
    if (!s) {
      s = createOrtSession(exportOnnx(graph, params, { outputs: taps }), { threads: options.threads ?? 1 });
      sessions.set(key, s);
    }
    return s;
  };
  return {
    graph,
    async run(feeds, taps) {
      if (taps.length === 0) return {};
      if (fallback) return fallback.run(feeds, taps);
      let s: InferenceSession;
      try {
        s = await session(taps);
      } catch (e) {
        if (!(e instanceof BevzipError) || e.code !== ERROR_CODES.ONNX_EXPORT) throw e;
        options.onFallback?.(`teacher runs in the tfjs interpreter: ${e.message}`);
        fallback = interpreterTeacher(graph, params);
        return fallback.run(feeds, taps);
      }
      const used = Object.fromEntries(Object.entries(feeds).filter(([name]) => inputs.has(name) && s.inputNames.includes(name)));
      const out = await runOrt(s, used, [...taps]);
      return Object.fromEntries(taps.map((t) => [t, tf.tensor(out[t].data, out[t].dims)]));
    },
  };
}
