import type { UnitScores } from './altermoma';
import type { PruningOptions } from './options';

// The layer policy and the bookkeeping of iterative rounds, shared by every criterion.

/** Top `n` channels of each layer, kept whatever the global threshold says. */
function forcedChannels(scores: ReadonlyMap<string, Float32Array>, n: number): Map<string, Uint8Array> {
  return new Map(
    [...scores].map(([name, s]) => {
      const order = Array.from(s.keys()).sort((a, b) => s[b] - s[a] || a - b);
      const k = new Uint8Array(s.length);
      for (const i of order.slice(0, Math.min(n, s.length))) k[i] = 1;
      return [name, k];
    }),
  );
}

/**
 * Units kept whatever the threshold says: per layer the top `minChannels` (structured) or the top
 * ⌈minDensity·n⌉, and every unit of params named by `keepDense`.
 */
export function forcedUnits(scores: ReadonlyMap<string, Float32Array>, o: PruningOptions): Map<string, Uint8Array> | undefined {
  const min = (n: number) => Math.max(o.structured ? o.minChannels : 0, Math.ceil(o.minDensity * n - 1e-9));
  if (!o.structured && o.minDensity === 0 && o.keepDense.length === 0) return undefined;
  const out = new Map<string, Uint8Array>();
  for (const [name, s] of scores) {
    const whole = o.keepDense.some((prefix) => name.startsWith(prefix));
    out.set(name, whole ? new Uint8Array(s.length).fill(1) : forcedChannels(new Map([[name, s]]), min(s.length)).get(name)!);
  }
  return out;
}

/**
 * Structured only: rounds each layer's kept channel count to the nearest multiple of `multiple`
 * (at least one multiple, at most the layer), keeping its highest-scoring channels (forced ones
 * first). Int8 and float conv kernels work in channel blocks (onnxruntime's NCHWc layout: 16 on
 * AVX-512, 8 on AVX2; tensor cores in multiples of 8), so a layer of 27 channels runs on a slower
 * path than one of 32. Layers of at most `multiple` channels are left as chosen.
 */
export function roundKeptChannels(
  keep: Map<string, Uint8Array>,
  scores: ReadonlyMap<string, Float32Array>,
  multiple: number,
  forced?: ReadonlyMap<string, Uint8Array>,
): Map<string, Uint8Array> {
  if (multiple <= 1) return keep;
  const out = new Map<string, Uint8Array>();
  for (const [name, k] of keep) {
    const s = scores.get(name)!;
    const kept = k.reduce((n, v) => n + v, 0);
    const target = Math.min(k.length, Math.max(multiple, Math.round(kept / multiple) * multiple));
    if (k.length <= multiple || kept === 0 || target === kept) {
      out.set(name, k);
      continue;
    }
    const f = forced?.get(name);
    const rank = (i: number) => (f?.[i] ? Infinity : Number.isNaN(s[i]) ? -Infinity : s[i]);
    const order = Array.from(s.keys()).sort((a, b) => rank(b) - rank(a) || (k[b] - k[a]) || a - b);
    const rounded = new Uint8Array(k.length);
    for (const i of order.slice(0, target)) rounded[i] = 1;
    out.set(name, rounded);
  }
  return out;
}

/** Units pruned in earlier rounds score −∞, so later rounds and the final threshold never bring them back. */
export function dropPruned(scores: UnitScores, keep: ReadonlyMap<string, Uint8Array> | undefined): void {
  if (!keep) return;
  for (const [name, s] of scores) {
    const k = keep.get(name);
    if (k) for (let i = 0; i < s.length; i++) if (!k[i]) s[i] = -Infinity;
  }
}
