import * as tf from '@tensorflow/tfjs';
import { round } from './timing';

/** Time spent in one tfjs kernel during a profiled step (forward and backward together). */
export interface KernelTime {
  kernel: string;
  ms: number;
  calls: number;
  /** Share of the summed kernel time. */
  share: number;
  /** Input shapes of its most expensive call, for finding the layer behind it. */
  worstCall: string;
  worstCallMs: number;
}

/**
 * Runs `step` once under `tf.profile` and sums kernel times by kernel name. The wasm backend runs
 * kernels synchronously, so each kernel's time is its wall time; kernels that the bevzip wasm
 * kernels compose internally are counted inside their caller.
 */
export async function profileStep(step: () => unknown, top: number): Promise<{ kernels: KernelTime[]; wallMs: number }> {
  const start = performance.now();
  const info = await tf.profile(() => {
    step();
    return [];
  });
  const wallMs = performance.now() - start;
  const byName = new Map<string, KernelTime>();
  for (const k of info.kernels) {
    const ms = Number(k.kernelTimeMs) || 0;
    const entry = byName.get(k.name) ?? { kernel: k.name, ms: 0, calls: 0, share: 0, worstCall: '', worstCallMs: -1 };
    entry.ms += ms;
    entry.calls++;
    if (ms > entry.worstCallMs) {
      entry.worstCallMs = ms;
      entry.worstCall = k.inputShapes.map((s) => `[${s?.join('×') ?? ''}]`).join(' ');
    }
    byName.set(k.name, entry);
  }
  const all = [...byName.values()].sort((a, b) => b.ms - a.ms);
  const total = all.reduce((a, k) => a + k.ms, 0);
  const kernels = all.slice(0, top).map((k) => ({
    ...k,
    ms: round(k.ms, 1),
    share: round(k.ms / total, 3),
    worstCallMs: round(k.worstCallMs, 1),
  }));
  return { kernels, wallMs };
}
