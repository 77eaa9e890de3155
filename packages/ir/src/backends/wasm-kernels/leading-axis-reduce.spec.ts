import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../select-backend';
import { memoryAfterRepeats } from '../testing/backprop-check';
import { computeOn, relativeError, seededUniform } from '../testing/compare-backends';
import { builtInWasmKernels, leadingAxes } from './leading-axis-reduce';

interface Case {
  name: string;
  shape: number[];
  axis: number | number[];
  keepDims?: boolean;
  /** Rows the built-in Sum is left with (the fast path shrank them), or undefined for a plain fallback. */
  leftRows?: number;
}

const CASES: Case[] = [
  { name: 'pillar-like [4, 96, 12, 8] over 0–2', shape: [4, 96, 12, 8], axis: [0, 1, 2], leftRows: 128 },
  { name: '2×2 windows only [16384, 3]', shape: [16384, 3], axis: 0, leftRows: 64 },
  { name: 'NHWC [2, 32, 32, 5] keepDims', shape: [2, 32, 32, 5], axis: [0, 1, 2], keepDims: true, leftRows: 128 },
  { name: 'axes unordered and negative', shape: [8, 64, 6], axis: [-2, 0], leftRows: 128 },
  { name: 'two trailing axes kept [512, 3, 4]', shape: [512, 3, 4], axis: 0, leftRows: 128 },
  { name: 'rows divisible by neither 9 nor 4 (fallback)', shape: [257, 3], axis: 0 },
  { name: '3×3 then 2×2 windows [2, 96, 12, 3]', shape: [2, 96, 12, 3], axis: [0, 1, 2], leftRows: 64 },
  { name: 'few rows (fallback)', shape: [4, 16, 3], axis: [0, 1] },
  { name: 'trailing axes (fallback)', shape: [4, 300, 3], axis: [1, 2] },
  { name: 'every axis (fallback)', shape: [64, 32], axis: [0, 1] },
];

describe('Sum and Mean over leading axes on wasm', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });

  it('recognises exactly the leading-axis reductions', () => {
    expect(leadingAxes([2, 3, 4], [0, 1])).toBe(2);
    expect(leadingAxes([2, 3, 4], [1, 0, 1])).toBe(2);
    expect(leadingAxes([2, 3, 4], -3)).toBe(1);
    expect(leadingAxes([2, 3, 4], [0, 2])).toBe(0);
    expect(leadingAxes([2, 3, 4], [0, 1, 2])).toBe(0);
  });

  describe.each(['sum', 'mean'] as const)('%s', (reduction) => {
    it.each(CASES.map((c) => [c.name, c]))('matches cpu within 1e-5 (relative): %s', async (_name, c) => {
      const data = seededUniform(tf.util.sizeFromShape(c.shape), 17);
      const fn = () => tf[reduction](tf.tensor(data, c.shape), c.axis, c.keepDims ?? false);
      const cpu = await computeOn('cpu', fn);
      const builtInSum = builtInWasmKernels.get('Sum')!;
      const spy = jest.spyOn(builtInSum, 'kernelFunc');
      try {
        const wasm = await computeOn('wasm', fn);
        expect(wasm.shapes).toEqual(cpu.shapes);
        expect(relativeError(wasm.values[0], cpu.values[0])).toBeLessThan(1e-5);
        if (c.leftRows !== undefined) {
          // The fast path ran: the built-in Sum only saw the rows the depthwise passes left.
          const shapes = spy.mock.calls.map(([a]) => (a.inputs.x as tf.TensorInfo).shape);
          expect(shapes).toEqual([[c.leftRows, c.shape.slice(leadingAxes(c.shape, c.axis)).reduce((p, q) => p * q, 1)]]);
        }
      } finally {
        spy.mockRestore();
      }
    });
  });

  it('leaves int32 sums to the built-in kernel', async () => {
    const data = Array.from({ length: 1024 }, (_, i) => (i * 37) % 11);
    const expected = [0, 1].map((c) => data.filter((_, i) => i % 2 === c).reduce((a, b) => a + b, 0));
    const sum = tf.sum(tf.tensor(data, [512, 2], 'int32'), 0);
    expect(sum.dtype).toBe('int32');
    expect(Array.from(await sum.data())).toEqual(expected);
    sum.dispose();
  });

  it('gives the same gradient as cpu through a broadcast product', async () => {
    const x = seededUniform(1024 * 6, 3);
    const w = seededUniform(6, 4);
    const fn = () => {
      const g = tf.grad((ww: tf.Tensor) => tf.sum(tf.mul(tf.tensor(x, [4, 256, 6]), ww)));
      return g(tf.tensor(w, [1, 1, 6]));
    };
    const cpu = await computeOn('cpu', fn);
    const wasm = await computeOn('wasm', fn);
    expect(relativeError(wasm.values[0], cpu.values[0])).toBeLessThan(1e-5);
  });

  it('frees every intermediate: tensors and wasm buffers stay flat across calls', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomUniform([2, 3072, 4, 8]);
    const { before, after } = memoryAfterRepeats(() => {
      tf.dispose([tf.sum(x, [0, 1, 2]), tf.mean(x, [0, 1], true)]);
    });
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    x.dispose();
  });
});
