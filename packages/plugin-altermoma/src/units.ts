/**
 * Pruning units. Unstructured, a unit is one weight; structured, it is one output channel (the last
 * axis of a conv2d / dense kernel, NHWC `[kh, kw, in, out]` or `[in, out]`).
 */

/** Per-weight signed first-order terms θ·∂L/∂θ → unit scores: |θ·g| per weight, or |Σ_channel θ·g|. */
export function taylorUnits(
  products: Float32Array,
  shape: readonly number[],
  structured: boolean,
): Float32Array {
  if (!structured) return products.map(Math.abs);
  const cout = shape[shape.length - 1];
  const sums = new Float64Array(cout);
  for (let i = 0; i < products.length; i++) sums[i % cout] += products[i];
  return Float32Array.from(sums, Math.abs);
}

/** |θ| per weight, or the L1 norm Σ|θ| of each output channel. */
export function magnitudeUnits(
  weights: Float32Array,
  shape: readonly number[],
  structured: boolean,
): Float32Array {
  if (!structured) return weights.map(Math.abs);
  const cout = shape[shape.length - 1];
  const sums = new Float64Array(cout);
  for (let i = 0; i < weights.length; i++) sums[i % cout] += Math.abs(weights[i]);
  return Float32Array.from(sums);
}

/** θ ⊙ g, element-wise. */
export function products(theta: Float32Array, grad: Float32Array): Float32Array {
  const out = new Float32Array(theta.length);
  for (let i = 0; i < theta.length; i++) out[i] = theta[i] * grad[i];
  return out;
}

/** θ ⊙ (g0 − gB), element-wise: the ReRI term before the absolute value. */
export function differenceProducts(theta: Float32Array, g0: Float32Array, gB: Float32Array): Float32Array {
  const out = new Float32Array(theta.length);
  for (let i = 0; i < theta.length; i++) out[i] = theta[i] * g0[i] - theta[i] * gB[i];
  return out;
}

/** The mask shape of a param for its unit layout: the param's shape, or `[1, …, 1, out]` for channels. */
export function unitMaskShape(shape: readonly number[], structured: boolean): number[] {
  return structured ? [...shape.slice(0, -1).map(() => 1), shape[shape.length - 1]] : [...shape];
}
