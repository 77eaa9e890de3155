import * as tf from '@tensorflow/tfjs';
import { run } from '../interpreter';
import { checkGradients, expectClose, expectNoLeak, onnxParity, randomTensor, singleOpGraph } from '../testing';

type Mode = 'half_pixel' | 'align_corners' | 'asymmetric';

/** Float64 nearest resize: source index per ONNX coordinate transform and nearest_mode, the reference. */
function naiveNearest(x: tf.Tensor, oh: number, ow: number, mode: Mode): number[] {
  const [b, h, w, c] = x.shape;
  const xd = x.dataSync();
  const pick = (o: number, inS: number, outS: number) => {
    const i =
      mode === 'asymmetric' ? Math.floor((o * inS) / outS)
      : mode === 'half_pixel' ? Math.floor(((o + 0.5) * inS) / outS - 0.5 + 0.5)
      : Math.floor((outS > 1 ? (o * (inS - 1)) / (outS - 1) : 0) + 0.5);
    return Math.min(Math.max(i, 0), inS - 1);
  };
  const out: number[] = [];
  for (let n = 0; n < b; n++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let k = 0; k < c; k++) out.push(xd[((n * h + pick(i, h, oh)) * w + pick(j, w, ow)) * c + k]);
  return out;
}

const cases = [
  { name: 'half_pixel ×2', attrs: { scale: 2 }, mode: 'half_pixel' as Mode, out: [6, 10] },
  { name: 'half_pixel to an odd size', attrs: { size: [5, 8] }, mode: 'half_pixel' as Mode, out: [5, 8] },
  { name: 'align_corners', attrs: { size: [4, 7], coordinateTransform: 'align_corners' }, mode: 'align_corners' as Mode, out: [4, 7] },
  { name: 'asymmetric downsampling', attrs: { size: [2, 3], coordinateTransform: 'asymmetric' }, mode: 'asymmetric' as Mode, out: [2, 3] },
];

function resizeGraph(x: tf.Tensor, attrs: Record<string, unknown>) {
  return singleOpGraph('resize_nearest', [{ name: 'x', value: x }], attrs as never);
}

describe('resize_nearest', () => {
  it('repeats each pixel in a 2×2 block when doubling', () => {
    const { graph, params, feeds } = resizeGraph(tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]), { scale: 2 });
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expect(Array.from(y.dataSync())).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 4, 4, 5, 5, 6, 6]);
  });

  it.each(cases)('matches the ONNX formulas and onnxruntime: $name', async ({ attrs, mode, out }) => {
    const x = randomTensor([2, 3, 5, 2], 1);
    const { graph, params, feeds } = resizeGraph(x, attrs);
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expect(y.shape).toEqual([2, out[0], out[1], 2]);
    expectClose(y, naiveNearest(x, out[0], out[1], mode), 0);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
  });

  it('has gradients that agree with finite differences on a non-square map', () => {
    for (const { attrs, out } of cases) {
      const x = randomTensor([1, 3, 5, 2], 2);
      const { graph, params, feeds } = resizeGraph(x, attrs);
      const w = randomTensor([1, out[0], out[1], 2], 3);
      checkGradients((xi) => tf.sum(tf.mul(run(graph, params, { ...feeds, x: xi }).outputs[graph.outputs[0]], w)) as tf.Scalar, [x]);
    }
  });

  it('rejects a scale that empties the map, naming the node', () => {
    expect(() => resizeGraph(tf.zeros([1, 2, 2, 1]), { scale: 0.25 })).toThrow(/node 'resize_nearest'.*empty output/);
  });

  it('keeps the tensor count flat across runs and gradient steps', () => {
    const { graph, params, feeds } = resizeGraph(randomTensor([1, 3, 4, 2], 4), { scale: 2 });
    expectNoLeak(() => {
      run(graph, params, feeds).outputs[graph.outputs[0]].dispose();
      tf.grad((xi: tf.Tensor) => run(graph, params, { x: xi }).outputs[graph.outputs[0]].sum())(feeds.x).dispose();
    });
  });
});
