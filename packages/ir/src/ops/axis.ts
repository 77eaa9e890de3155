/**
 * Axis helpers shared by the shape and reduction ops. Attributes may name axes from the end (-1 is
 * the last axis), as in numpy, tfjs and ONNX; these resolve them against a rank once, with an error
 * that names the attribute when an axis is out of range or repeated.
 */

/** Resolves a possibly negative axis against `rank` to 0…rank−1. */
export function resolveAxis(axis: number, rank: number, what = 'axis'): number {
  const r = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(r) || r < 0 || r >= rank) {
    throw new Error(`${what} ${axis} is out of range for rank ${rank} (expected ${-rank}…${rank - 1})`);
  }
  return r;
}

/** Resolves a list of axes (sorted, no repeats); `undefined` means every axis. */
export function resolveAxes(axes: readonly number[] | undefined, rank: number, what = 'axes'): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const out = axes.map((a) => resolveAxis(a, rank, what));
  if (new Set(out).size !== out.length) throw new Error(`${what} [${axes}] name the same axis twice`);
  return out.sort((a, b) => a - b);
}

/** Product of dims, -1 when any of them is unknown. */
export function knownSize(dims: readonly number[]): number {
  return dims.some((d) => d === -1) ? -1 : dims.reduce((a, b) => a * b, 1);
}

/** The permutation swapping the last two axes of a rank-`rank` tensor. */
export function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}
