import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../select-backend';
import { memoryAfterRepeats } from '../testing/backprop-check';
import { computeOn, relativeError, seededUniform } from '../testing/compare-backends';

interface Case {
  name: string;
  xShape: number[];
  ids: number[];
  idsShape: number[];
  numSegments: number;
  dtype: 'float32' | 'int32';
}

const CASES: Case[] = [
  { name: 'rows of a matrix', xShape: [7, 5], ids: [3, 0, 3, 1, 3, 0, 2], idsShape: [7], numSegments: 5, dtype: 'float32' },
  { name: 'a vector', xShape: [6], ids: [1, 1, 1, 0, 2, 1], idsShape: [6], numSegments: 3, dtype: 'float32' },
  { name: '2-D ids over a 3-D tensor', xShape: [2, 3, 4], ids: [0, 2, 0, 1, 2, 2], idsShape: [2, 3], numSegments: 4, dtype: 'float32' },
  { name: 'ids outside [0, numSegments) dropped', xShape: [6, 3], ids: [0, -1, 2, 9, 3, 2], idsShape: [6], numSegments: 4, dtype: 'float32' },
  { name: 'int32 data', xShape: [5, 2], ids: [1, 0, 1, 1, 0], idsShape: [5], numSegments: 2, dtype: 'int32' },
];

// The cpu kernel only supports 1-D ids, so its reference sees multi-dimensional ids flattened
// together with the matching leading axes of x, which is the same sum.
function segmentSum(c: Case, flatten: boolean) {
  return () => {
    const data = Array.from(seededUniform(tf.util.sizeFromShape(c.xShape), 7), (v) => (c.dtype === 'int32' ? Math.round(v * 50) : v));
    const rows = c.ids.length;
    const xShape = flatten ? [rows, ...c.xShape.slice(c.idsShape.length)] : c.xShape;
    const idsShape: number[] = flatten ? [rows] : c.idsShape;
    const ids: tf.Tensor = tf.tensor(c.ids, idsShape, 'int32');
    return tf.unsortedSegmentSum(tf.tensor(data, xShape, c.dtype), ids as tf.Tensor1D, c.numSegments);
  };
}

describe('UnsortedSegmentSum on wasm', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });

  it.each(CASES.map((c) => [c.name, c]))('matches cpu: %s', async (_name, c) => {
    const cpu = await computeOn('cpu', segmentSum(c, true));
    const wasm = await computeOn('wasm', segmentSum(c, false));
    expect(wasm.shapes).toEqual(cpu.shapes);
    expect(relativeError(wasm.values[0], cpu.values[0])).toBeLessThan(1e-6);
  });

  it('sums a hand-computed case, leaving empty segments at zero', async () => {
    await tf.setBackend('wasm');
    const y = tf.unsortedSegmentSum(tf.tensor1d([1, 2, 4, 8]), tf.tensor1d([2, 0, 2, 5], 'int32'), 4);
    expect(Array.from(y.dataSync())).toEqual([2, 0, 5, 0]);
    y.dispose();
  });

  it('carries the gradient of gather on wasm, equal to cpu', async () => {
    const grad = () => {
      const x = tf.tensor(seededUniform(40, 5), [10, 4]);
      const idx = tf.tensor1d([3, 1, 3, 0, 9, 3], 'int32');
      const w = tf.tensor(seededUniform(24, 6), [6, 4]);
      return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.gather(a, idx), w)))(x);
    };
    const cpu = await computeOn('cpu', grad);
    const wasm = await computeOn('wasm', grad);
    expect(relativeError(wasm.values[0], cpu.values[0])).toBeLessThan(1e-6);
  });

  it('runs in time linear in the data, not segments × data', async () => {
    await tf.setBackend('wasm');
    const rows = 200_000;
    const x = tf.ones([rows, 4]);
    const ids = tf.tensor1d(Int32Array.from({ length: rows }, (_, i) => (i * 7919) % 50_000), 'int32');
    const start = performance.now();
    const y = tf.unsortedSegmentSum(x, ids, 50_000);
    const sum = (await y.sum().data())[0];
    // O(segments · data) would be 4·10^10 operations here: minutes, not milliseconds.
    expect(performance.now() - start).toBeLessThan(2000);
    expect(sum).toBe(rows * 4);
    tf.dispose([x, ids, y]);
  });

  it('frees every intermediate, also on the out-of-range path', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomUniform([6, 3]);
    const ids = tf.tensor1d([0, -1, 2, 9, 3, 2], 'int32');
    const { before, after } = memoryAfterRepeats(() => tf.unsortedSegmentSum(x, ids, 4).dispose());
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    tf.dispose([x, ids]);
  });
});
