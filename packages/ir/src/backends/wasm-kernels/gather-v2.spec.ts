import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../select-backend';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from './register-wasm-training-kernels';
import { memoryAfterRepeats } from '../testing/backprop-check';
import { computeOn, relativeError, seededUniform } from '../testing/compare-backends';

interface Case {
  name: string;
  xShape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  indices: number[];
  indicesShape: number[];
  axis: number;
  batchDims?: number;
}

const CASES: Case[] = [
  { name: 'rows of 40 (native row copies)', xShape: [7, 40], dtype: 'float32', indices: [6, 0, 3, 3, 1], indicesShape: [5], axis: 0 },
  { name: 'axis 1 of a 3-D tensor (element loop)', xShape: [3, 5, 4], dtype: 'float32', indices: [4, 0, 2], indicesShape: [3], axis: 1 },
  { name: 'last axis', xShape: [2, 3, 6], dtype: 'float32', indices: [5, 5, 0, 1], indicesShape: [4], axis: -1 },
  { name: '2-D indices', xShape: [6, 20], dtype: 'float32', indices: [1, 2, 5, 0, 0, 4], indicesShape: [2, 3], axis: 0 },
  { name: 'batchDims 1', xShape: [2, 5, 3], dtype: 'float32', indices: [4, 1, 0, 2, 2, 3], indicesShape: [2, 3], axis: 1, batchDims: 1 },
  { name: 'int32 data', xShape: [5, 17], dtype: 'int32', indices: [2, 4, 2], indicesShape: [3], axis: 0 },
  { name: 'bool data', xShape: [4, 3], dtype: 'bool', indices: [3, 0], indicesShape: [2], axis: 0 },
  { name: 'no indices', xShape: [4, 3], dtype: 'float32', indices: [], indicesShape: [0], axis: 0 },
];

function gather(c: Case) {
  return () => {
    const raw = seededUniform(tf.util.sizeFromShape(c.xShape), 9);
    const data = Array.from(raw, (v) => (c.dtype === 'float32' ? v : c.dtype === 'int32' ? Math.round(v * 99) : v > 0 ? 1 : 0));
    const x = tf.tensor(data, c.xShape, c.dtype);
    const y = tf.gather(x, tf.tensor(c.indices, c.indicesShape, 'int32'), c.axis, c.batchDims ?? 0);
    return y.dtype === 'bool' ? y.cast('int32') : y;
  };
}

describe('GatherV2 on wasm', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });

  it.each(CASES.map((c) => [c.name, c]))('equals cpu exactly: %s', async (_name, c) => {
    const cpu = await computeOn('cpu', gather(c));
    const wasm = await computeOn('wasm', gather(c));
    expect(wasm.shapes).toEqual(cpu.shapes);
    expect(relativeError(wasm.values[0], cpu.values[0])).toBe(0);
  });

  it('rejects an out-of-range index, naming it and the valid range', async () => {
    await tf.setBackend('wasm');
    const call = () => tf.tidy(() => tf.gather(tf.zeros([4, 2]), tf.tensor1d([1, 4], 'int32')));
    expect(call).toThrow('GatherV2 on wasm: index 4 at position 1 is not in [0, 3]');
  });

  it('gathers 50k rows of 64 at least twice as fast as the built-in kernel', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomUniform([20000, 64]);
    const idx = tf.tensor1d(Int32Array.from({ length: 50000 }, (_, i) => (i * 31) % 20000), 'int32');
    const fastest = () => {
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const start = performance.now();
        tf.gather(x, idx).dispose();
        best = Math.min(best, performance.now() - start);
      }
      return best;
    };
    const ours = fastest();
    unregisterWasmTrainingKernels();
    let builtIn: number;
    try {
      builtIn = fastest();
    } finally {
      registerWasmTrainingKernels();
    }
    expect(ours).toBeLessThan(builtIn / 2);
    const y = tf.gather(x, idx);
    const row = (49999 * 31) % 20000;
    expect(Array.from(y.slice([49999, 0], [1, 64]).dataSync())).toEqual(Array.from(x.slice([row, 0], [1, 64]).dataSync()));
    tf.dispose([x, idx, y]);
  });

  it('leaves tensor and buffer counts flat', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomUniform([6, 32]);
    const idx = tf.tensor1d([5, 0, 5], 'int32');
    const { before, after } = memoryAfterRepeats(() => tf.gather(x, idx).dispose());
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    tf.dispose([x, idx]);
  });
});
