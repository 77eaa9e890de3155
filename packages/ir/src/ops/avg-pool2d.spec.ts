import * as tf from '@tensorflow/tfjs';
import { run } from '../interpreter';
import {
  checkGradients,
  expectClose,
  expectNoLeak,
  naivePool,
  onnxParity,
  randomTensor,
  singleOpGraph,
} from '../testing';
import { avgPool2dAttrs as poolAttrs } from './avg-pool2d';
import { poolPads } from './pool-common';

/** Float64 window mean; padded cells count in the divisor only with countIncludePad, the reference. */
function naiveAvgPool(x: tf.Tensor, attrs: Record<string, unknown>): number[] {
  const a = poolAttrs.parse(attrs);
  return naivePool(
    x,
    { pads: poolPads(a, x.shape[1]!, x.shape[2]!), kernel: a.kernel, strides: a.strides },
    (cells, size) => cells.reduce((s, v) => s + v, 0) / (a.countIncludePad ? size : cells.length),
  );
}

const cases = [
  { name: '3×3 stride 1 same', attrs: { kernel: 3, strides: 1, pad: 'same' } },
  { name: '2×2 stride 2 valid', attrs: { kernel: 2, strides: 2 } },
  { name: '3×2 stride 2 same on odd sizes', attrs: { kernel: [3, 2], strides: 2, pad: 'same' } },
  { name: 'explicit asymmetric padding', attrs: { kernel: 3, strides: [2, 1], pad: [1, 0, 2, 1] } },
  { name: 'same, padding counted', attrs: { kernel: 3, strides: 2, pad: 'same', countIncludePad: true } },
  { name: 'explicit padding counted', attrs: { kernel: [2, 3], pad: [1, 1, 0, 2], countIncludePad: true } },
];

function poolGraph(x: tf.Tensor, attrs: Record<string, unknown>) {
  return singleOpGraph('avg_pool2d', [{ name: 'x', value: x }], attrs as never);
}

describe('avg_pool2d', () => {
  it.each(cases)('matches a direct average pool and onnxruntime: $name', async ({ attrs }) => {
    const x = tf.add(randomTensor([2, 7, 6, 3], 1), 2);
    const { graph, params, feeds } = poolGraph(x, attrs);
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expect(y.shape).toEqual(graph.values[graph.outputs[0]].shape);
    expectClose(y, naiveAvgPool(x, attrs), 1e-6);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
  });

  it('has gradients that agree with finite differences', () => {
    for (const { attrs } of cases) {
      const x = randomTensor([1, 5, 6, 2], 2);
      const { graph, params, feeds } = poolGraph(x, attrs);
      const w = randomTensor(graph.values[graph.outputs[0]].shape, 3);
      checkGradients(
        (xi) =>
          tf.sum(tf.mul(run(graph, params, { ...feeds, x: xi }).outputs[graph.outputs[0]], w)) as tf.Scalar,
        [x],
        { eps: 1e-3 },
      );
    }
  });

  it('rejects padding as large as the kernel, naming the node', () => {
    expect(() => poolGraph(tf.zeros([1, 4, 4, 1]), { kernel: 2, pad: 2 })).toThrow(
      /node 'avg_pool2d'.*smaller than the kernel/,
    );
  });

  it('keeps the tensor count flat across runs and gradient steps', () => {
    const { graph, params, feeds } = poolGraph(randomTensor([1, 5, 5, 2], 4), { kernel: 3, pad: 'same' });
    expectNoLeak(() => {
      run(graph, params, feeds).outputs[graph.outputs[0]].dispose();
      tf.grad((xi: tf.Tensor) => run(graph, params, { x: xi }).outputs[graph.outputs[0]].sum())(
        feeds.x,
      ).dispose();
    });
  });
});
