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

/** Units pruned in earlier rounds score −∞, so later rounds and the final threshold never bring them back. */
export function dropPruned(scores: UnitScores, keep: ReadonlyMap<string, Uint8Array> | undefined): void {
  if (!keep) return;
  for (const [name, s] of scores) {
    const k = keep.get(name);
    if (k) for (let i = 0; i < s.length; i++) if (!k[i]) s[i] = -Infinity;
  }
}
