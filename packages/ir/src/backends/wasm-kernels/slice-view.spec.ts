import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../select-backend';
import { memoryAfterRepeats } from '../testing/backprop-check';
import { computeOn, seededUniform } from '../testing/compare-backends';

const SLICES: { name: string; shape: number[]; begin: number[]; size: number[] }[] = [
  { name: '1-D contiguous', shape: [300], begin: [17], size: [120] },
  { name: 'leading rows (one run)', shape: [40, 6], begin: [5], size: [20] },
  { name: 'inner box of a 4-D tensor', shape: [3, 7, 6, 5], begin: [1, 2, 0, 1], size: [2, 4, 6, 3] },
  { name: 'last-axis columns', shape: [2, 9, 8, 10], begin: [0, 0, 0, 4], size: [-1, -1, -1, 6] },
  { name: 'rank 5', shape: [2, 3, 4, 5, 6], begin: [1, 0, 1, 2, 3], size: [1, 3, 2, 3, 2] },
  { name: 'empty', shape: [4, 5], begin: [2, 1], size: [0, 3] },
];

describe('Slice and SplitV on wasm through heap views', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });

  it.each(SLICES.map((c) => [c.name, c]))('Slice equals cpu exactly: %s', async (_name, c) => {
    const data = seededUniform(tf.util.sizeFromShape(c.shape), 21);
    const fn = () => tf.slice(tf.tensor(data, c.shape), c.begin, c.size);
    const cpu = await computeOn('cpu', fn);
    const wasm = await computeOn('wasm', fn);
    expect(wasm.shapes).toEqual(cpu.shapes);
    expect(Array.from(wasm.values[0])).toEqual(Array.from(cpu.values[0]));
  });

  it.each([
    ['axis 0 by sizes', [10, 3], [2, 5, 3], 0],
    ['last axis in halves', [2, 4, 4, 6], 2, 3],
    ['middle axis with an inferred size', [3, 9, 2], [4, -1, 1], 1],
  ] as [string, number[], number | number[], number][])('SplitV equals cpu exactly: %s', async (_name, shape, splits, axis) => {
    const data = seededUniform(tf.util.sizeFromShape(shape), 22);
    const fn = () => tf.split(tf.tensor(data, shape), splits, axis);
    const cpu = await computeOn('cpu', fn);
    const wasm = await computeOn('wasm', fn);
    expect(wasm.shapes).toEqual(cpu.shapes);
    expect(wasm.values.map((v) => Array.from(v))).toEqual(cpu.values.map((v) => Array.from(v)));
  });

  it('slices int32 and bool tensors', async () => {
    const fn = () => [
      tf.slice(tf.tensor([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32'), [0, 1], [2, 2]),
      tf.slice(tf.tensor([true, false, true, true], [2, 2], 'bool'), [1, 0], [1, 2]),
    ];
    const cpu = await computeOn('cpu', fn);
    const wasm = await computeOn('wasm', fn);
    expect(wasm.values.map((v) => Array.from(v))).toEqual(cpu.values.map((v) => Array.from(v)));
  });

  it('gives the same gradient as cpu through split and slice', async () => {
    const data = seededUniform(4 * 6 * 5, 23);
    const fn = () =>
      tf.grad((x: tf.Tensor) => {
        const [a, b] = tf.split(x, [2, 4], 1);
        return tf.add(tf.sum(tf.square(a)), tf.sum(tf.mul(tf.slice(b, [1, 0, 2], [2, 3, 3]), 3)));
      })(tf.tensor(data, [4, 6, 5]));
    const cpu = await computeOn('cpu', fn);
    const wasm = await computeOn('wasm', fn);
    expect(Array.from(wasm.values[0])).toEqual(Array.from(cpu.values[0]));
  });

  it('frees every intermediate: tensors and wasm buffers stay flat across calls', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomUniform([8, 16, 4]);
    const { before, after } = memoryAfterRepeats(() => tf.dispose([tf.slice(x, [1, 2, 0], [3, 4, 4]), ...tf.split(x, 4, 2)]));
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    x.dispose();
  });
});
