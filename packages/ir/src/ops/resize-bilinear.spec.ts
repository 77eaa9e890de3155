import * as tf from '@tensorflow/tfjs';
import { run } from '../interpreter';
import { checkGradients, expectClose, expectNoLeak, onnxParity, randomTensor, singleOpGraph } from '../testing';

type Mode = 'half_pixel' | 'align_corners' | 'asymmetric';

/** Float64 bilinear resize written from the ONNX Resize formulas, the reference. */
function naiveBilinear(x: tf.Tensor, oh: number, ow: number, mode: Mode): number[] {
  const [b, h, w, c] = x.shape;
  const xd = x.dataSync();
  const src = (o: number, inS: number, outS: number) =>
    mode === 'align_corners' ? (outS > 1 ? (o * (inS - 1)) / (outS - 1) : 0) : mode === 'half_pixel' ? ((o + 0.5) * inS) / outS - 0.5 : (o * inS) / outS;
  const out: number[] = [];
  for (let n = 0; n < b; n++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        const r = Math.min(Math.max(src(i, h, oh), 0), h - 1);
        const s = Math.min(Math.max(src(j, w, ow), 0), w - 1);
        const [r0, s0] = [Math.floor(r), Math.floor(s)];
        const [r1, s1] = [Math.min(r0 + 1, h - 1), Math.min(s0 + 1, w - 1)];
        const at = (y: number, z: number, k: number) => xd[((n * h + y) * w + z) * c + k];
        for (let k = 0; k < c; k++) {
          const top = at(r0, s0, k) * (1 - (s - s0)) + at(r0, s1, k) * (s - s0);
          const bottom = at(r1, s0, k) * (1 - (s - s0)) + at(r1, s1, k) * (s - s0);
          out.push(top * (1 - (r - r0)) + bottom * (r - r0));
        }
      }
  return out;
}

const cases = [
  { name: 'half_pixel ×2 on a non-square map', attrs: { scale: 2 }, mode: 'half_pixel' as Mode, out: [6, 10] },
  { name: 'align_corners to a size', attrs: { size: [4, 7], coordinateTransform: 'align_corners' }, mode: 'align_corners' as Mode, out: [4, 7] },
  { name: 'asymmetric with per-axis scale', attrs: { scale: [2, 1.5], coordinateTransform: 'asymmetric' }, mode: 'asymmetric' as Mode, out: [6, 7] },
  { name: 'half_pixel downsampling', attrs: { size: [2, 3] }, mode: 'half_pixel' as Mode, out: [2, 3] },
];

function resizeGraph(x: tf.Tensor, attrs: Record<string, unknown>) {
  return singleOpGraph('resize_bilinear', [{ name: 'x', value: x }], attrs as never);
}

describe('resize_bilinear', () => {
  it.each(cases)('matches the ONNX formulas and onnxruntime: $name', async ({ attrs, mode, out }) => {
    const x = randomTensor([2, 3, 5, 2], 1);
    const { graph, params, feeds } = resizeGraph(x, attrs);
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expect(y.shape).toEqual([2, out[0], out[1], 2]);
    expectClose(y, naiveBilinear(x, out[0], out[1], mode), 1e-5);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
  });

  it.each(['cpu', 'wasm'])('trains through non-square maps on the %s backend', async (backend) => {
    const previous = tf.getBackend();
    await tf.setBackend(backend);
    try {
      for (const { attrs, out } of cases) {
        const x = randomTensor([1, 3, 5, 2], 2);
        const { graph, params, feeds } = resizeGraph(x, attrs);
        const w = randomTensor([1, out[0], out[1], 2], 3);
        checkGradients((xi) => tf.sum(tf.mul(run(graph, params, { ...feeds, x: xi }).outputs[graph.outputs[0]], w)) as tf.Scalar, [x]);
      }
    } finally {
      await tf.setBackend(previous);
    }
  });

  it('rejects both scale and size, naming the node', () => {
    expect(() => resizeGraph(tf.zeros([1, 2, 2, 1]), { scale: 2, size: [4, 4] })).toThrow(/node 'resize_bilinear'.*exactly one of scale and size/);
    expect(() => resizeGraph(tf.zeros([2, 2, 1]), { scale: 2 })).toThrow(/node 'resize_bilinear'.*NHWC/);
  });

  it('keeps the tensor count flat across runs and gradient steps', () => {
    const { graph, params, feeds } = resizeGraph(randomTensor([1, 3, 4, 2], 4), { scale: 2 });
    expectNoLeak(() => {
      run(graph, params, feeds).outputs[graph.outputs[0]].dispose();
      tf.grad((xi: tf.Tensor) => run(graph, params, { x: xi }).outputs[graph.outputs[0]].sum())(feeds.x).dispose();
    });
  });
});
