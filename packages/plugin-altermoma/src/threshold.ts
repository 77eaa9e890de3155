import { BevzipError, ERROR_CODES } from '@bevzip/ir';

/** Number of units kept at sparsity ρ out of n: n − round(ρ·n), so the pruned count is exact. */
export function keepCount(n: number, sparsity: number): number {
  return n - Math.round(sparsity * n);
}

/**
 * One global threshold over every score: keeps exactly `keep` units, the highest scores first; ties
 * at the threshold go to the earlier unit (map order, then index), so the result is deterministic.
 * NaN scores count as the lowest. `forced` units are kept whatever their score and count toward `keep`.
 *
 * @example
 * globalTopK(new Map([['w', Float32Array.of(3, 1, 2)]]), 2) // w → [1, 0, 1]
 */
export function globalTopK(
  scores: ReadonlyMap<string, Float32Array>,
  keep: number,
  forced?: ReadonlyMap<string, Uint8Array>,
): Map<string, Uint8Array> {
  let total = 0;
  for (const s of scores.values()) total += s.length;
  if (!(Number.isInteger(keep) && keep >= 0 && keep <= total)) {
    throw new BevzipError(ERROR_CODES.CONFIG, `global threshold: cannot keep ${keep} of ${total} scores`);
  }
  const out = new Map<string, Uint8Array>();
  let left = keep;
  for (const [name, s] of scores) {
    const f = forced?.get(name);
    const k = new Uint8Array(s.length);
    if (f) {
      for (let i = 0; i < s.length; i++) {
        if (!f[i]) continue;
        k[i] = 1;
        left--;
      }
    }
    out.set(name, k);
  }
  if (left < 0)
    throw new BevzipError(
      ERROR_CODES.CONFIG,
      `global threshold: ${keep - left} units are forced, more than the ${keep} to keep`,
    );
  const free = new Float32Array(total - (keep - left));
  let n = 0;
  for (const [name, s] of scores) {
    const k = out.get(name)!;
    for (let i = 0; i < s.length; i++) if (!k[i]) free[n++] = Number.isNaN(s[i]) ? -Infinity : s[i];
  }
  if (left === 0) return out;
  const sorted = free.slice().sort();
  const tau = sorted[sorted.length - left];
  let above = 0;
  for (let i = sorted.length - left; i < sorted.length; i++) if (sorted[i] > tau) above++;
  let ties = left - above;
  for (const [name, s] of scores) {
    const k = out.get(name)!;
    for (let i = 0; i < s.length; i++) {
      if (k[i]) continue;
      const v = Number.isNaN(s[i]) ? -Infinity : s[i];
      if (v > tau) k[i] = 1;
      else if (v === tau && ties > 0) {
        k[i] = 1;
        ties--;
      }
    }
  }
  return out;
}

/** Divides by the L1 sum of the array (its values are non-negative); an all-zero array stays zero. */
export function l1Normalize(values: Float32Array, total: number): Float32Array {
  const out = new Float32Array(values.length);
  if (total > 0) for (let i = 0; i < values.length; i++) out[i] = values[i] / total;
  return out;
}
