import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../select-backend';
import { memoryAfterRepeats } from '../testing/backprop-check';
import { computeOn, seededUniform } from '../testing/compare-backends';
import { builtInWasmKernels } from './leading-axis-reduce';

describe('Identity and same-dtype Cast on wasm share the buffer', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });

  it('clone and same-dtype cast reuse the data id without copying, and keep values after the source is disposed', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor([1.5, -2, 3, 4], [2, 2]);
    const builtIn = builtInWasmKernels.get(tf.Identity)!;
    const spy = jest.spyOn(builtIn, 'kernelFunc');
    const y = tf.clone(x);
    const z = tf.cast(x, 'float32');
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(y.dataId).toBe(x.dataId);
    expect(z.dataId).toBe(x.dataId);
    x.dispose();
    expect(y.shape).toEqual([2, 2]);
    expect(Array.from(await y.data())).toEqual([1.5, -2, 3, 4]);
    expect(Array.from(await z.data())).toEqual([1.5, -2, 3, 4]);
    tf.dispose([y, z]);
  });

  it('casts to another dtype with the built-in kernel (cpu values)', async () => {
    const fn = () => [tf.cast(tf.tensor([1.7, -2.2, 0, 3]), 'int32'), tf.cast(tf.tensor([0, 2, -1, 0], [4], 'int32'), 'float32')];
    const cpu = await computeOn('cpu', fn);
    const wasm = await computeOn('wasm', fn);
    expect(wasm.values.map((v) => Array.from(v))).toEqual(cpu.values.map((v) => Array.from(v)));
  });

  it('a variable assigned after a clone leaves the clone unchanged', async () => {
    await tf.setBackend('wasm');
    const v = tf.variable(tf.tensor([1, 2, 3]));
    const snapshot = v.clone();
    v.assign(tf.tensor([7, 8, 9]));
    expect(Array.from(await snapshot.data())).toEqual([1, 2, 3]);
    expect(Array.from(await v.data())).toEqual([7, 8, 9]);
    tf.dispose([v, snapshot]);
  });

  it('gives the same gradients as cpu where tfjs saves tensors for backward', async () => {
    const x = seededUniform(64 * 8, 11);
    const fn = () => {
      const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.exp(tf.mul(xx, 0.5)), tf.sigmoid(xx))));
      return g(tf.tensor(x, [64, 8]));
    };
    const cpu = await computeOn('cpu', fn);
    const wasm = await computeOn('wasm', fn);
    const ref = cpu.values[0];
    const err = Math.max(...Array.from(wasm.values[0], (v, i) => Math.abs(v - ref[i]) / Math.max(1, Math.abs(ref[i]))));
    expect(err).toBeLessThan(1e-5);
  });

  it('frees shared buffers once every tensor on them is disposed', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomUniform([256, 16]);
    const { before, after } = memoryAfterRepeats(() => {
      const a = tf.clone(x);
      const b = tf.cast(a, 'float32');
      tf.dispose([a, b]);
    });
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    x.dispose();
  });
});
