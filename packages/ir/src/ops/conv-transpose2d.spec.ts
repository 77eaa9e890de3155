import * as tf from '@tensorflow/tfjs';
import { run } from '../interpreter';
import { checkGradients, expectClose, expectNoLeak, onnxParity, randomTensor, singleOpGraph } from '../testing';
import { convTranspose2dAttrs, transposePads } from './conv-transpose2d';

/** Float64 transposed convolution by scattering each input pixel through the kernel, the reference. */
function naiveConvTranspose(x: tf.Tensor, w: tf.Tensor, attrs: Record<string, unknown>, outShape: number[]): number[] {
  const a = convTranspose2dAttrs.parse(attrs);
  const [n, h, wd, ci] = x.shape;
  const [kh, kw, co] = w.shape;
  const [sh, sw] = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
  const [[pt], [pl]] = transposePads(a, h, wd, kh, kw);
  const [, oh, ow] = outShape;
  const xd = x.dataSync();
  const wdt = w.dataSync();
  const out = new Array<number>(n * oh * ow * co).fill(0);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < wd; j++)
        for (let u = 0; u < kh; u++)
          for (let v = 0; v < kw; v++) {
            const [y, z] = [i * sh - pt + u, j * sw - pl + v];
            if (y < 0 || y >= oh || z < 0 || z >= ow) continue;
            for (let o = 0; o < co; o++)
              for (let c = 0; c < ci; c++) out[((b * oh + y) * ow + z) * co + o] += xd[((b * h + i) * wd + j) * ci + c] * wdt[((u * kw + v) * co + o) * ci + c];
          }
  return out;
}

const cases = [
  { name: '2×2 stride 2 (SECOND-FPN upsampling)', k: [2, 2], attrs: { strides: 2 }, out: [8, 10] },
  { name: '3×3 stride 2 same', k: [3, 3], attrs: { strides: 2, pad: 'same' }, out: [8, 10] },
  { name: '3×3 stride 2 pad 1 with output padding', k: [3, 3], attrs: { strides: 2, pad: 1, outputPadding: 1 }, out: [8, 10] },
  { name: '3×2 stride 1 explicit pads', k: [3, 2], attrs: { strides: [1, 2], pad: [0, 1, 1, 0] }, out: [5, 9] },
  { name: '1×1 stride 2 same (kernel smaller than stride)', k: [1, 1], attrs: { strides: 2, pad: 'same' }, out: [8, 10] },
];

describe('conv_transpose2d', () => {
  it.each(cases)('matches a direct transposed convolution and onnxruntime: $name', async ({ k, attrs, out }) => {
    const x = randomTensor([2, 4, 5, 3], 1);
    const w = randomTensor([k[0], k[1], 2, 3], 2);
    const bias = randomTensor([2], 3);
    const { graph, params, feeds } = singleOpGraph('conv_transpose2d', [{ name: 'x', value: x }, { name: 'w', value: w, param: true }, { name: 'b', value: bias, param: true }], attrs as never);
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expect(y.shape).toEqual([2, out[0], out[1], 2]);
    const bd = bias.dataSync();
    expectClose(y, naiveConvTranspose(x, w, attrs, y.shape).map((v, i) => v + bd[i % 2]), 1e-5);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
  });

  it('has gradients in input and weight that agree with finite differences', () => {
    for (const attrs of [{ strides: 2, pad: 1, outputPadding: 1 }, { strides: 2, pad: 'same' }]) {
      const x = randomTensor([1, 3, 4, 2], 4);
      const w = randomTensor([3, 3, 2, 2], 5);
      const { graph, params, feeds } = singleOpGraph('conv_transpose2d', [{ name: 'x', value: x }, { name: 'w', value: w, param: true }], attrs as never);
      checkGradients(
        (xi, wi) => {
          const store = { get: (name: string) => (name === 'w' ? wi : params.get(name)) };
          return run(graph, store, { ...feeds, x: xi }).outputs[graph.outputs[0]].square().sum() as tf.Scalar;
        },
        [x, w],
      );
    }
  });

  it('rejects a weight whose last dim is not the input channels, naming the node', () => {
    expect(() =>
      singleOpGraph('conv_transpose2d', [{ name: 'x', value: tf.zeros([1, 4, 4, 3]) }, { name: 'w', value: tf.zeros([2, 2, 3, 2]), param: true }]),
    ).toThrow(/node 'conv_transpose2d'.*input channels 3 do not match weight/);
    expect(() =>
      singleOpGraph('conv_transpose2d', [{ name: 'x', value: tf.zeros([1, 4, 4, 3]) }, { name: 'w', value: tf.zeros([2, 2, 2, 3]), param: true }], { strides: 2, outputPadding: 2 }),
    ).toThrow(/node 'conv_transpose2d'.*outputPadding \[2, 2\] must be smaller than strides/);
  });

  it('keeps the tensor count flat across runs', () => {
    const { graph, params, feeds } = singleOpGraph('conv_transpose2d', [{ name: 'x', value: randomTensor([1, 3, 3, 2], 6) }, { name: 'w', value: randomTensor([2, 2, 2, 2], 7), param: true }], { strides: 2 });
    expectNoLeak(() => {
      run(graph, params, feeds).outputs[graph.outputs[0]].dispose();
    });
  });
});
