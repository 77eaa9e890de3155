import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backends';
import { computeOn, relativeError } from '../backends/testing/compare-backends';
import { run } from '../interpreter';
import { randomTensor, singleOpGraph, type OpCaseInput } from '../testing';

const int = (data: number[], shape: number[]) => tf.tensor(data, shape, 'int32');

/** One small case per op; gradients are taken w.r.t. every float input but the `constant` ones. */
const cases: { op: string; inputs: OpCaseInput[]; attrs?: Record<string, unknown>; constant?: string[] }[] = [
  { op: 'bev_pool', inputs: [{ name: 'f', value: randomTensor([2, 6, 3], 1) }, { name: 'i', value: int([0, 5, 5, -1, 2, 9, 1, 1, 3, 4, 0, 8], [2, 6]) }], attrs: { gridH: 2, gridW: 3 } },
  { op: 'pillar_scatter', inputs: [{ name: 'f', value: randomTensor([4, 2], 2) }, { name: 'c', value: int([0, 1, 0, 1, 1, 2, 0, 1, 0, -1, -1, -1], [4, 3]) }], attrs: { gridH: 2, gridW: 3, batch: 2 } },
  { op: 'pillar_max', inputs: [{ name: 'x', value: randomTensor([3, 4, 2], 3) }, { name: 'm', value: tf.tensor2d([1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1], [3, 4]) }], constant: ['m'] },
  { op: 'grid_sample', inputs: [{ name: 'f', value: randomTensor([1, 3, 4, 2], 4) }, { name: 'p', value: tf.tensor3d([[[0.3, 1.7], [2.5, -0.4], [1, 2], [-0.8, 3.2]]]) }] },
  { op: 'resize_bilinear', inputs: [{ name: 'x', value: randomTensor([1, 3, 5, 2], 5) }], attrs: { scale: 2 } },
  { op: 'resize_nearest', inputs: [{ name: 'x', value: randomTensor([1, 3, 5, 2], 6) }], attrs: { size: [5, 8] } },
  { op: 'max_pool2d', inputs: [{ name: 'x', value: randomTensor([1, 5, 6, 2], 7) }], attrs: { kernel: 3, strides: 2, pad: 'same' } },
  { op: 'avg_pool2d', inputs: [{ name: 'x', value: randomTensor([1, 5, 6, 2], 8) }], attrs: { kernel: 3, strides: 2, pad: 'same' } },
  { op: 'conv_transpose2d', inputs: [{ name: 'x', value: randomTensor([1, 3, 4, 2], 9) }, { name: 'w', value: randomTensor([3, 3, 2, 2], 10) }], attrs: { strides: 2, pad: 1, outputPadding: 1 } },
  {
    op: 'attention',
    inputs: [
      { name: 'q', value: randomTensor([1, 3, 4], 11) },
      { name: 'k', value: randomTensor([1, 5, 4], 12) },
      { name: 'v', value: randomTensor([1, 5, 4], 13) },
      ...['wq', 'wk', 'wv', 'wo'].map((name, i) => ({ name, value: randomTensor([4, 4], 14 + i) })),
    ],
    attrs: { heads: 2 },
  },
];

describe('spatial, sampling, BEV and attention ops on cpu and wasm', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });

  it.each(cases)('$op: forward and gradients agree between the backends', async ({ op, inputs, attrs, constant }) => {
    const { graph, params, feeds } = singleOpGraph(op, inputs, (attrs ?? {}) as never);
    const names = inputs.filter((i) => i.value.dtype === 'float32' && !constant?.includes(i.name)).map((i) => i.name);
    const weight = randomTensor(graph.values[graph.outputs[0]].shape, 99);
    const compute = () => {
      const f = (...xs: tf.Tensor[]) => {
        const fed = { ...feeds, ...Object.fromEntries(names.map((n, i) => [n, xs[i]])) };
        return tf.sum(tf.mul(run(graph, params, fed).outputs[graph.outputs[0]], weight));
      };
      return [f(...names.map((n) => feeds[n])), ...tf.grads(f)(names.map((n) => feeds[n]))];
    };
    const cpu = await computeOn('cpu', compute);
    const wasm = await computeOn('wasm', compute);
    cpu.values.forEach((ref, i) => expect(relativeError(wasm.values[i], ref)).toBeLessThan(1e-4));
    expect(wasm.shapes).toEqual(cpu.shapes);
  });
});
