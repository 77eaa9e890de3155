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

/** Joins row-major tensors along `axis` by copying blocks, the reference. */
function concatRef(xs: tf.Tensor[], axis: number): number[] {
  const outer = xs[0].shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const x of xs) {
      const block = x.shape.slice(axis).reduce((a, b) => a * b, 1);
      out.push(...x.dataSync().subarray(o * block, (o + 1) * block));
    }
  }
  return out;
}

const cases = [
  {
    name: 'two inputs on axis 1',
    shapes: [
      [2, 3, 4],
      [2, 1, 4],
    ],
    axis: 1,
    resolved: 1,
  },
  {
    name: 'three inputs on the last axis (default)',
    shapes: [
      [2, 2, 3],
      [2, 2, 1],
      [2, 2, 2],
    ],
    axis: undefined,
    resolved: 2,
  },
  {
    name: 'the batch axis',
    shapes: [
      [1, 3],
      [2, 3],
    ],
    axis: 0,
    resolved: 0,
  },
  { name: 'a single input', shapes: [[2, 3]], axis: -1, resolved: 1 },
];

describe('concat', () => {
  it.each(cases)('matches a direct copy and onnxruntime: $name', async ({ shapes, axis, resolved }) => {
    const xs = shapes.map((s, i) => randomTensor(s, i + 1));
    const { graph, params, feeds } = singleOpGraph(
      'concat',
      xs.map((value, i) => ({ name: `x${i}`, value, param: i === 1 })),
      axis === undefined ? {} : { axis },
    );
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    const expectedShape = [...shapes[0]];
    expectedShape[resolved] = shapes.reduce((s, sh) => s + sh[resolved], 0);
    expect(y.shape).toEqual(expectedShape);
    expect(graph.values[graph.outputs[0]].shape).toEqual(expectedShape);
    expectClose(y, concatRef(xs, resolved), 0);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
  });

  it('keeps unknown dims: channels of a -1 batch add up, an unknown joined axis stays unknown', async () => {
    const g = new GraphBuilder('batch');
    const [a, b] = [g.input('a', [-1, 4, 4, 2]), g.input('b', [-1, 4, 4, 3])];
    const channels = g.op('concat', [a, b]);
    const batch = g.op('concat', [a, g.param('extra', [1, 4, 4, 2])], { axis: 0 });
    g.output(channels, batch);
    const graph = g.build();
    expect(graph.values[channels].shape).toEqual([-1, 4, 4, 5]);
    expect(graph.values[batch].shape).toEqual([-1, 4, 4, 2]);
    const params = ParamStore.fromTensors(graph, new Map([['extra', randomTensor([1, 4, 4, 2], 1)]]));
    const feeds = { a: randomTensor([2, 4, 4, 2], 2), b: randomTensor([2, 4, 4, 3], 3) };
    expect(run(graph, params, feeds).outputs[batch].shape).toEqual([3, 4, 4, 2]);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
  });

  it('has gradients for every input that agree with finite differences', () => {
    const xs = [randomTensor([2, 3], 1), randomTensor([2, 2], 2), randomTensor([2, 1], 3)];
    const { graph, params } = singleOpGraph(
      'concat',
      xs.map((value, i) => ({ name: `x${i}`, value })),
      { axis: 1 },
    );
    const weights = randomTensor([2, 6], 4);
    checkGradients(
      (a, b, c) =>
        run(graph, params, { x0: a, x1: b, x2: c }).outputs[graph.outputs[0]].mul(weights).sum() as tf.Scalar,
      xs,
    );
  });

  it('rejects inputs that differ off the joined axis, naming the node', () => {
    expect(() =>
      singleOpGraph(
        'concat',
        [
          { name: 'a', value: tf.zeros([2, 3, 4]) },
          { name: 'b', value: tf.zeros([2, 2, 4]) },
        ],
        { axis: 2 },
      ),
    ).toThrow(/node 'concat'.*input 1 \[2,2,4\] differs from \[2,3,4\] on axis 1/);
    expect(() => singleOpGraph('concat', [], {})).toThrow(/node 'concat'.*one or more inputs/);
  });

  it('keeps the tensor count flat across runs', () => {
    const { graph, params, feeds } = singleOpGraph('concat', [
      { name: 'a', value: randomTensor([2], 1) },
      { name: 'b', value: randomTensor([3], 2) },
    ]);
    expectNoLeak(() => {
      const r = run(graph, params, feeds);
      Object.values(r.outputs).forEach((t) => t.dispose());
    });
  });
});
