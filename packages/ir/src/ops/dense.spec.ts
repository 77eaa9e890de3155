import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../builder';
import { run } from '../interpreter';
import { ParamStore } from '../params';
import {
  checkGradients,
  expectClose,
  expectNoLeak,
  onnxParity,
  randomTensor,
  singleOpGraph,
} from '../testing';

/** y[r, o] = Σ_i x[r, i]·w[i, o] + b[o] over every leading position r, in float64. */
function denseRef(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): number[] {
  const [inDim, outDim] = w.shape;
  const [xd, wd, bd] = [x.dataSync(), w.dataSync(), b?.dataSync()];
  const out: number[] = [];
  for (let r = 0; r < xd.length / inDim; r++)
    for (let o = 0; o < outDim; o++) {
      let s = bd ? bd[o] : 0;
      for (let i = 0; i < inDim; i++) s += xd[r * inDim + i] * wd[i * outDim + o];
      out.push(s);
    }
  return out;
}

const cases = [
  { name: 'rank 2 with bias (Gemm)', x: [3, 5], bias: true },
  { name: 'rank 2 without bias', x: [3, 5], bias: false },
  { name: 'rank 4 with bias (MatMul + Add)', x: [2, 3, 2, 5], bias: true },
  { name: 'rank 1', x: [5], bias: true },
];

describe('dense', () => {
  it.each(cases)('matches a direct computation and onnxruntime: $name', async ({ x: xs, bias }) => {
    const x = randomTensor(xs, 1);
    const w = randomTensor([5, 4], 2);
    const b = randomTensor([4], 3);
    const { graph, params, feeds } = singleOpGraph('dense', [
      { name: 'x', value: x },
      { name: 'w', value: w, param: true },
      bias ? { name: 'b', value: b, param: true } : null,
    ]);
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expect(y.shape).toEqual([...xs.slice(0, -1), 4]);
    expect(graph.values[graph.outputs[0]].shape).toEqual(y.shape);
    expectClose(y, denseRef(x, w, bias ? b : undefined), 1e-5);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
  });

  it('keeps an unknown batch dimension through inference, the interpreter and onnxruntime', async () => {
    const g = new GraphBuilder('batch');
    const y = g.op('dense', [
      g.input('x', [-1, 3, 5]),
      g.param('w', [5, 4]),
      g.param('b', [4], { role: 'bias' }),
    ]);
    g.output(y);
    const graph = g.build();
    expect(graph.values[y].shape).toEqual([-1, 3, 4]);
    const params = ParamStore.fromTensors(
      graph,
      new Map([
        ['w', randomTensor([5, 4], 1)],
        ['b', randomTensor([4], 2)],
      ]),
    );
    const feeds = { x: randomTensor([2, 3, 5], 3) };
    expect(run(graph, params, feeds).outputs[y].shape).toEqual([2, 3, 4]);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
  });

  it('has gradients for x, weight and bias that agree with finite differences', () => {
    const [x, w, b] = [randomTensor([2, 3, 5], 4), randomTensor([5, 4], 5), randomTensor([4], 6)];
    const { graph, params } = singleOpGraph('dense', [
      { name: 'x', value: x },
      { name: 'w', value: w },
      { name: 'b', value: b },
    ]);
    checkGradients(
      (xi, wi, bi) =>
        run(graph, params, { x: xi, w: wi, b: bi }).outputs[graph.outputs[0]].square().sum() as tf.Scalar,
      [x, w, b],
    );
  });

  it('rejects a weight whose input size does not match the features, naming the node', () => {
    expect(() =>
      singleOpGraph('dense', [
        { name: 'x', value: tf.zeros([2, 6]) },
        { name: 'w', value: tf.zeros([5, 4]), param: true },
      ]),
    ).toThrow(/node 'dense'.*input features of x \[2,6\] do not match weight \[5,4\]/);
    expect(() =>
      singleOpGraph('dense', [
        { name: 'x', value: tf.zeros([2, 5]) },
        { name: 'w', value: tf.zeros([5, 4]), param: true },
        { name: 'b', value: tf.zeros([3]), param: true },
      ]),
    ).toThrow(/node 'dense'.*bias length/);
  });

  it('keeps the tensor count flat across runs', () => {
    const { graph, params, feeds } = singleOpGraph('dense', [
      { name: 'x', value: randomTensor([2, 3, 5], 1) },
      { name: 'w', value: randomTensor([5, 4], 2), param: true },
    ]);
    expectNoLeak(() => {
      const r = run(graph, params, feeds);
      Object.values(r.outputs).forEach((t) => t.dispose());
    });
  });
});
