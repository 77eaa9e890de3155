import type * as tf from '@tensorflow/tfjs';

/** Window geometry of a 2-D pool: explicit [[top, bottom], [left, right]] pads, kernel and strides. */
export interface PoolWindows {
  pads: [[number, number], [number, number]];
  kernel: number | readonly number[];
  strides: number | readonly number[];
}

const pairOf = (v: number | readonly number[]): [number, number] =>
  typeof v === 'number' ? [v, v] : [v[0], v[1]];

/**
 * Direct NHWC pooling in float64, the reference for pool ops: `reduce` gets the real (unpadded)
 * cells of each window and the window's full size, and returns the pooled value.
 */
export function naivePool(
  x: tf.Tensor,
  g: PoolWindows,
  reduce: (cells: number[], windowSize: number) => number,
): number[] {
  const [b, h, w, c] = x.shape;
  const [[pt, pb], [pl, pr]] = g.pads;
  const [kh, kw] = pairOf(g.kernel);
  const [sh, sw] = pairOf(g.strides);
  const xd = x.dataSync();
  const out: number[] = [];
  for (let n = 0; n < b; n++)
    for (let i = 0; i + kh <= h + pt + pb; i += sh)
      for (let j = 0; j + kw <= w + pl + pr; j += sw)
        for (let k = 0; k < c; k++) {
          const cells: number[] = [];
          for (let u = 0; u < kh; u++)
            for (let v = 0; v < kw; v++) {
              const [y, z] = [i + u - pt, j + v - pl];
              if (y >= 0 && y < h && z >= 0 && z < w) cells.push(xd[((n * h + y) * w + z) * c + k]);
            }
          out.push(reduce(cells, kh * kw));
        }
  return out;
}
