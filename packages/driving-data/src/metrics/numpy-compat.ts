/**
 * The few array primitives whose exact floating-point behaviour the nuScenes metrics depend on,
 * reproduced so results agree with the reference evaluation to the last bits.
 */

/** Evenly spaced values from `start` to `stop` inclusive, computed as `start + i·step` with the last pinned to `stop`. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  if (num === 1) {
    out[0] = start;
    return out;
  }
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  out[num - 1] = stop;
  return out;
}

/** Index of the last `xp` entry ≤ `x` (xp non-decreasing, xp[0] ≤ x ≤ xp[last]). */
function lastAtOrBelow(xp: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = xp.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x >= xp[mid]) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * Piecewise-linear interpolation with numpy `interp` semantics: `xp` must be non-decreasing
 * (ties allowed: the last of equal abscissae wins), values left of `xp[0]` get `left`
 * (default `fp[0]`), right of the last get `right` (default last `fp`), NaN queries stay NaN.
 */
export function interp(
  x: ArrayLike<number>,
  xp: ArrayLike<number>,
  fp: ArrayLike<number>,
  left?: number,
  right?: number,
): Float64Array {
  const n = xp.length;
  if (n === 0 || fp.length !== n) {
    throw new Error(`interp: xp and fp must be non-empty and equally long, got ${n} and ${fp.length}`);
  }
  const lval = left ?? fp[0];
  const rval = right ?? fp[n - 1];
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (Number.isNaN(v)) {
      out[i] = v;
    } else if (v < xp[0]) {
      out[i] = lval;
    } else if (v > xp[n - 1]) {
      out[i] = rval;
    } else {
      const j = lastAtOrBelow(xp, v);
      if (j === n - 1 || xp[j] === v) {
        out[i] = fp[j];
      } else {
        const slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
        let y = slope * (v - xp[j]) + fp[j];
        // Infinite neighbours can give NaN from one side only; numpy retries from the other.
        if (Number.isNaN(y)) {
          y = slope * (v - xp[j + 1]) + fp[j + 1];
          if (Number.isNaN(y) && fp[j] === fp[j + 1]) y = fp[j];
        }
        out[i] = y;
      }
    }
  }
  return out;
}

/**
 * Sum in numpy's pairwise order (blocks of 8 partial sums, halving above 128 elements), so that
 * means agree bit for bit with `np.mean`/`np.sum`.
 */
export function pairwiseSum(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    const r = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let j = 0; j < 8; j++) r[j] = a[start + j];
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    }
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** Mean in numpy's summation order; NaN for an empty input. */
export function mean(a: ArrayLike<number>): number {
  return a.length === 0 ? NaN : pairwiseSum(a) / a.length;
}

/** Mean ignoring NaNs (numpy `nanmean`); NaN when every entry is NaN. */
export function nanMean(a: ArrayLike<number>): number {
  const filled = Array.from(a, (v) => (Number.isNaN(v) ? 0 : v));
  const count = Array.prototype.filter.call(a, (v: number) => !Number.isNaN(v)).length;
  return count === 0 ? NaN : pairwiseSum(filled) / count;
}

/** Round half to even, as Python's `round`. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
