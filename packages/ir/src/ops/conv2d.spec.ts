import * as tf from '@tensorflow/tfjs';
import { checkGradients, expectClose, expectNoLeak, onnxParity, randomTensor, singleOpGraph } from '../testing';
import { run } from '../interpreter';
import { conv2dAttrs, convPads } from './conv2d';

/** Direct NHWC convolution in float64, the reference. */
function naiveConv(x: tf.Tensor, w: tf.Tensor, stride: number, pads: number[][], dil: number, groups: number): number[] {
  const [n, h, wd, c] = x.shape;
  const [kh, kw, cig, co] = w.shape;
  const xd = x.dataSync();
  const wdt = w.dataSync();
  const oh = Math.floor((h + pads[0][0] + pads[0][1] - (kh - 1) * dil - 1) / stride) + 1;
  const ow = Math.floor((wd + pads[1][0] + pads[1][1] - (kw - 1) * dil - 1) / stride) + 1;
  const cog = co / groups;
  const out: number[] = [];
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let o = 0; o < co; o++) {
          const g = Math.floor(o / cog);
          let s = 0;
          for (let u = 0; u < kh; u++)
            for (let v = 0; v < kw; v++)
              for (let ci = 0; ci < cig; ci++) {
                const yi = i * stride - pads[0][0] + u * dil;
                const xj = j * stride - pads[1][0] + v * dil;
                if (yi < 0 || yi >= h || xj < 0 || xj >= wd) continue;
                s += xd[((b * h + yi) * wd + xj) * c + g * cig + ci] * wdt[((u * kw + v) * cig + ci) * co + o];
              }
          out.push(s);
        }
  return out;
}

const cases = [
  { name: 'stride 1 same', stride: 1, pad: 'same' as const, dil: 1, groups: 1, c: 3, co: 4 },
  { name: 'stride 2 same (odd size)', stride: 2, pad: 'same' as const, dil: 1, groups: 1, c: 3, co: 4 },
  { name: 'stride 2 valid', stride: 2, pad: 'valid' as const, dil: 1, groups: 1, c: 2, co: 3 },
  { name: 'dilation 2', stride: 1, pad: 'same' as const, dil: 2, groups: 1, c: 2, co: 2 },
  { name: 'groups 2', stride: 1, pad: 1, dil: 1, groups: 2, c: 4, co: 6 },
  { name: 'depthwise multiplier 2', stride: 2, pad: 'same' as const, dil: 1, groups: 3, c: 3, co: 6 },
];

describe('conv2d', () => {
  it.each(cases)('matches a direct convolution: $name', async ({ stride, pad, dil, groups, c, co }) => {
    const x = randomTensor([2, 7, 6, c], 1);
    const w = randomTensor([3, 3, c / groups, co], 2);
    const bias = randomTensor([co], 3);
    const attrs = { strides: stride, pad, dilations: dil, groups };
    const { graph, params, feeds } = singleOpGraph('conv2d', [{ name: 'x', value: x }, { name: 'w', value: w, param: true }, { name: 'b', value: bias, param: true }], attrs);
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    const pads = convPads(conv2dAttrs.parse(attrs), 7, 6, 3, 3);
    const ref = naiveConv(x, w, stride, pads, dil, groups);
    const b = bias.dataSync();
    expectClose(y, ref.map((v, i) => v + b[i % co]), 1e-5);
    expect(y.shape).toEqual(graph.values[graph.outputs[0]].shape);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
  });

  it('has gradients that agree with finite differences, dilated and grouped included', () => {
    for (const attrs of [{ strides: 2, dilations: 1, groups: 1 }, { strides: 1, dilations: 2, groups: 2 }]) {
      const x = randomTensor([1, 6, 5, 4], 4);
      const w = randomTensor([3, 3, 4 / attrs.groups, 2], 5);
      const { graph, params, feeds } = singleOpGraph('conv2d', [{ name: 'x', value: x }, { name: 'w', value: w, param: true }], attrs);
      checkGradients(
        (xi, wi) => {
          const store = { get: (n: string) => (n === 'w' ? wi : params.get(n)) };
          return run(graph, store, { ...feeds, x: xi }).outputs[graph.outputs[0]].square().sum() as tf.Scalar;
        },
        [x, w],
      );
    }
  });

  it('rejects a weight whose input channels do not match, naming the node', () => {
    expect(() =>
      singleOpGraph('conv2d', [{ name: 'x', value: tf.zeros([1, 4, 4, 3]) }, { name: 'w', value: tf.zeros([3, 3, 2, 4]), param: true }]),
    ).toThrow(/node 'conv2d'.*input channels 3/);
  });

  it('keeps the tensor count flat across runs', () => {
    const { graph, params, feeds } = singleOpGraph('conv2d', [{ name: 'x', value: randomTensor([1, 5, 5, 2], 1) }, { name: 'w', value: randomTensor([3, 3, 2, 2], 2), param: true }]);
    expectNoLeak(() => {
      const r = run(graph, params, feeds);
      Object.values(r.outputs).forEach((t) => t.dispose());
    });
  });
});
