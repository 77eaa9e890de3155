import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../select-backend';
import { memoryAfterRepeats } from '../testing/backprop-check';
import { computeOn, seededUniform } from '../testing/compare-backends';
import { innerAxisView } from './inner-axis-max';
import { builtInWasmKernels } from './leading-axis-reduce';

const CASES: { name: string; shape: number[]; axis: number | number[]; keepDims?: boolean; pooled: boolean }[] = [
  { name: 'pillar-like [2, 96, 12, 8] over axis 2', shape: [2, 96, 12, 8], axis: 2, pooled: true },
  { name: 'keepDims, negative axis [4, 7, 5]', shape: [4, 7, 5], axis: -2, keepDims: true, pooled: true },
  { name: 'two adjacent axes [3, 4, 5, 6] over 1–2', shape: [3, 4, 5, 6], axis: [2, 1], pooled: true },
  { name: 'leading axis [9, 10]', shape: [9, 10], axis: 0, pooled: true },
  { name: 'last axis (built-in) [6, 11]', shape: [6, 11], axis: 1, pooled: false },
  { name: 'non-adjacent axes (built-in) [3, 4, 5]', shape: [3, 4, 5], axis: [0, 2], pooled: false },
  { name: 'size-1 axis (built-in) [4, 1, 3]', shape: [4, 1, 3], axis: 1, pooled: false },
];

describe('Max over inner axes on wasm', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });

  it('views exactly the contiguous reductions followed by another axis', () => {
    expect(innerAxisView([2, 3072, 12, 32], 2)).toEqual([6144, 12, 32]);
    expect(innerAxisView([3, 4, 5, 6], [1, 2])).toEqual([3, 20, 6]);
    expect(innerAxisView([3, 4, 5], [0, 2])).toBeUndefined();
    expect(innerAxisView([3, 4, 5], 2)).toBeUndefined();
    expect(innerAxisView([3, 1, 5], 1)).toBeUndefined();
  });

  it.each(CASES.map((c) => [c.name, c]))('equals cpu exactly: %s', async (_name, c) => {
    // Repeated values and large negatives (the pillar padding fill) included.
    const data = seededUniform(tf.util.sizeFromShape(c.shape), 9).map((v, i) => (i % 5 === 0 ? -3.4e38 : Math.round(v * 4) / 4));
    const fn = () => tf.max(tf.tensor(data, c.shape), c.axis, c.keepDims ?? false);
    const cpu = await computeOn('cpu', fn);
    const builtIn = builtInWasmKernels.get(tf.Max)!;
    const spy = jest.spyOn(builtIn, 'kernelFunc');
    try {
      const wasm = await computeOn('wasm', fn);
      expect(wasm.shapes).toEqual(cpu.shapes);
      expect(Array.from(wasm.values[0])).toEqual(Array.from(cpu.values[0]));
      expect(spy).toHaveBeenCalledTimes(c.pooled ? 0 : 1);
    } finally {
      spy.mockRestore();
    }
  });

  it('leaves int32 tensors to the built-in kernel', async () => {
    await tf.setBackend('wasm');
    const m = tf.tidy(() => tf.max(tf.tensor([1, 5, 3, 2, 0, 7], [3, 2, 1], 'int32').reshape([3, 2]).expandDims(2).tile([1, 1, 2]), 1));
    expect(m.dtype).toBe('int32');
    expect(Array.from(await m.data())).toEqual([5, 5, 3, 3, 7, 7]);
    m.dispose();
  });

  it('gives the same gradient as cpu', async () => {
    const data = seededUniform(4 * 6 * 5, 12);
    const fn = () => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.max(x, 1), tf.range(0, 5, 1, 'float32'))))(tf.tensor(data, [4, 6, 5]));
    const cpu = await computeOn('cpu', fn);
    const wasm = await computeOn('wasm', fn);
    expect(Array.from(wasm.values[0])).toEqual(Array.from(cpu.values[0]));
  });

  it('frees every intermediate: tensors and wasm buffers stay flat across calls', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomUniform([64, 12, 8]);
    const { before, after } = memoryAfterRepeats(() => tf.dispose([tf.max(x, 1), tf.max(x, 0, true)]));
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    x.dispose();
  });
});
