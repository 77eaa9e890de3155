import { seededUniform } from './compare-backends';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

/** One convolution to check: NHWC input shape, filter shape, stride, dilation and padding. */
export interface ConvCase {
  name: string;
  xShape: [number, number, number, number];
  filterShape: [number, number, number, number];
  strides: [number, number];
  dilations: [number, number];
  pad: Pad;
}

const STRIDES: [number, number][] = [[1, 1], [2, 2], [2, 1]];
const DILATIONS: [number, number][] = [[1, 1], [2, 2]];

/**
 * Small convolution cases with sizes drawn from a fixed seed: every stride in {1, 2, (2, 1)},
 * dilation in {1, 2} and padding in {same, valid, explicit}, kept small so the `cpu`
 * reference stays fast. `depthwise` makes the filter's last axis a channel multiplier.
 */
export function convCases(seed: number, depthwise: boolean): ConvCase[] {
  const r = seededUniform(512, seed);
  let k = 0;
  const int = (lo: number, hi: number) => lo + Math.floor(((r[k++] + 1) / 2) * (hi - lo + 1));
  const cases: ConvCase[] = [];
  for (const strides of STRIDES) {
    for (const dilations of DILATIONS) {
      for (const padKind of ['same', 'valid', 'explicit'] as const) {
        const fh = int(1, 3);
        const fw = int(2, 3);
        const xShape: ConvCase['xShape'] = [int(1, 3), int(7, 11), int(7, 11), int(1, 4)];
        const filterShape: ConvCase['filterShape'] = [fh, fw, xShape[3], depthwise ? int(1, 2) : int(1, 5)];
        const pad: Pad =
          padKind === 'explicit' ? [[0, 0], [int(0, 2), int(0, 2)], [int(0, 2), int(0, 2)], [0, 0]] : padKind;
        const name = `x ${xShape} f ${filterShape} s ${strides} d ${dilations} pad ${JSON.stringify(pad)}`;
        cases.push({ name, xShape, filterShape, strides, dilations, pad });
      }
    }
  }
  return cases;
}

/**
 * Hand-picked edge cases: stride 3 with a 5×5 filter, 1×1 filters with stride 2, padding wider
 * than the filter, outputs of a single row, and odd sizes that leave unread input rows.
 */
export const EDGE_CONV_CASES: ConvCase[] = (
  [
    [[2, 11, 9, 3], [5, 5, 3, 4], [3, 3], [1, 1], 'same'],
    [[1, 8, 7, 4], [1, 1, 4, 3], [2, 2], [1, 1], 'valid'],
    [[1, 6, 6, 2], [2, 2, 2, 3], [2, 2], [1, 1], [[0, 0], [3, 3], [0, 4], [0, 0]]],
    [[2, 4, 9, 2], [4, 3, 2, 2], [2, 2], [1, 1], 'valid'],
    [[1, 9, 10, 3], [3, 3, 3, 2], [2, 2], [1, 1], 'same'],
    [[1, 10, 10, 2], [3, 3, 2, 2], [3, 3], [1, 1], 'valid'],
  ] as [ConvCase['xShape'], ConvCase['filterShape'], [number, number], [number, number], Pad][]
).map(([xShape, filterShape, strides, dilations, pad]) => ({
  name: `edge: x ${xShape} f ${filterShape} s ${strides} pad ${JSON.stringify(pad)}`,
  xShape,
  filterShape,
  strides,
  dilations,
  pad,
}));

/** Inserts d−1 zeros between filter taps: a dilated filter as an undilated one. */
export function dilateFilter(data: Float32Array, shape: number[], dh: number, dw: number): {
  data: Float32Array;
  shape: [number, number, number, number];
} {
  const [fh, fw, ci, co] = shape;
  const out: [number, number, number, number] = [(fh - 1) * dh + 1, (fw - 1) * dw + 1, ci, co];
  const res = new Float32Array(out[0] * out[1] * ci * co);
  for (let i = 0; i < fh; i++)
    for (let j = 0; j < fw; j++)
      for (let c = 0; c < ci * co; c++) res[((i * dh) * out[1] + j * dw) * ci * co + c] = data[(i * fw + j) * ci * co + c];
  return { data: res, shape: out };
}

/** Keeps every d-th tap of a dilated-filter gradient: the inverse of {@link dilateFilter}. */
export function undilateFilter(data: Float32Array, dilatedShape: number[], dh: number, dw: number): Float32Array {
  const [h, w, ci, co] = dilatedShape;
  const fh = (h - 1) / dh + 1;
  const fw = (w - 1) / dw + 1;
  const res = new Float32Array(fh * fw * ci * co);
  for (let i = 0; i < fh; i++)
    for (let j = 0; j < fw; j++)
      for (let c = 0; c < ci * co; c++) res[(i * fw + j) * ci * co + c] = data[((i * dh) * w + j * dw) * ci * co + c];
  return res;
}

/** Output spatial size of a forward convolution, for building dy of the right shape. */
export function convOutSize(c: ConvCase): [number, number] {
  const eff = (f: number, d: number) => (f - 1) * d + 1;
  const out = (n: number, f: number, s: number, i: 1 | 2): number => {
    if (c.pad === 'same') return Math.ceil(n / s);
    const [a, b] = c.pad === 'valid' ? [0, 0] : c.pad[i];
    return Math.floor((n + a + b - f) / s) + 1;
  };
  return [
    out(c.xShape[1], eff(c.filterShape[0], c.dilations[0]), c.strides[0], 1),
    out(c.xShape[2], eff(c.filterShape[1], c.dilations[1]), c.strides[1], 2),
  ];
}
