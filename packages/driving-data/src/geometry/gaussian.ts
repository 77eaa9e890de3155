// CenterPoint heat-map Gaussians, shared by the detection targets and distillation masks.
/**
 * Radius of the heat-map Gaussian for a box footprint of `height` × `width` cells: the smallest of
 * CornerNet's three roots with overlap `o` (as CenterPoint's `gaussian_radius`, including its
 * choice of dividing the second and third roots by 2 rather than 2a):
 * r1 = (b1 + √(b1² − 4c1))/2 with b1 = h + w, c1 = wh(1 − o)/(1 + o);
 * r2 = (b2 + √(b2² − 16c2))/2 with b2 = 2(h + w), c2 = (1 − o)wh;
 * r3 = (b3 + √(b3² − 16o·c3))/2 with b3 = −2o(h + w), c3 = (o − 1)wh.
 */
export function gaussianRadius(height: number, width: number, overlap: number): number {
  const b1 = height + width;
  const c1 = (width * height * (1 - overlap)) / (1 + overlap);
  const r1 = (b1 + Math.sqrt(b1 * b1 - 4 * c1)) / 2;
  const b2 = 2 * (height + width);
  const c2 = (1 - overlap) * width * height;
  const r2 = (b2 + Math.sqrt(b2 * b2 - 16 * c2)) / 2;
  const b3 = -2 * overlap * (height + width);
  const c3 = (overlap - 1) * width * height;
  const r3 = (b3 + Math.sqrt(b3 * b3 - 16 * overlap * c3)) / 2;
  return Math.min(r1, r2, r3);
}

/** The integer radius actually drawn: max(minRadius, ⌊gaussianRadius⌋). */
export function heatmapRadius(
  lengthCells: number,
  widthCells: number,
  overlap: number,
  minRadius: number,
): number {
  return Math.max(minRadius, Math.floor(gaussianRadius(lengthCells, widthCells, overlap)));
}

/**
 * The (2r+1)² kernel exp(−(dx² + dy²)/(2σ²)) with σ = (2r+1)/6, peak 1, values below
 * float64 epsilon × peak set to 0 (as CenterPoint's `gaussian_2d`). Row-major.
 */
export function gaussianKernel(radius: number): Float64Array {
  const d = 2 * radius + 1;
  const sigma = d / 6;
  const k = new Float64Array(d * d);
  for (let a = -radius; a <= radius; a++) {
    for (let b = -radius; b <= radius; b++) {
      const v = Math.exp(-(a * a + b * b) / (2 * sigma * sigma));
      k[(a + radius) * d + (b + radius)] = v < Number.EPSILON ? 0 : v;
    }
  }
  return k;
}

/**
 * Draws a Gaussian of radius `radius` centred on cell (i, j) into channel `channel` of an NHWC
 * heat map [rows, cols, channels] (one sample), merging with what is there by max and clipping at
 * the borders.
 */
export function drawGaussian(
  heatmap: Float32Array,
  shape: readonly [number, number, number],
  channel: number,
  i: number,
  j: number,
  radius: number,
): void {
  const [rows, cols, channels] = shape;
  const kernel = gaussianKernel(radius);
  const d = 2 * radius + 1;
  for (let a = Math.max(0, i - radius); a <= Math.min(rows - 1, i + radius); a++) {
    for (let b = Math.max(0, j - radius); b <= Math.min(cols - 1, j + radius); b++) {
      const v = kernel[(a - i + radius) * d + (b - j + radius)];
      const o = (a * cols + b) * channels + channel;
      if (v > heatmap[o]) heatmap[o] = v;
    }
  }
}
