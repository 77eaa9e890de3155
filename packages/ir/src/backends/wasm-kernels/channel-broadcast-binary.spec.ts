import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../select-backend';
import { memoryAfterRepeats } from '../testing/backprop-check';
import { computeOn, seededUniform } from '../testing/compare-backends';
import { channelBroadcastPlan } from './channel-broadcast-binary';
import { builtInWasmKernels } from './leading-axis-reduce';

const OPS = ['Multiply', 'Add', 'Sub'] as const;
const apply = (op: (typeof OPS)[number], a: tf.Tensor, b: tf.Tensor) =>
  op === 'Multiply' ? tf.mul(a, b) : op === 'Add' ? tf.add(a, b) : tf.sub(a, b);

const CASES: { name: string; a: number[]; b: number[]; widened: boolean }[] = [
  { name: 'pillar-like [4, 96, 12, 32] · [32]', a: [4, 96, 12, 32], b: [32], widened: true },
  { name: 'vector first [3] · [2, 64, 64, 3]', a: [3], b: [2, 64, 64, 3], widened: true },
  { name: 'vector [1, 1, 1, 16] · [2, 32, 32, 16]', a: [2, 32, 32, 16], b: [1, 1, 1, 16], widened: true },
  { name: 'prime row count [16411, 2] · [2] (no divisor: built-in)', a: [16411, 2], b: [2], widened: false },
  { name: 'small [2, 8, 8, 4] · [4] (built-in)', a: [2, 8, 8, 4], b: [4], widened: false },
  { name: 'not per-channel [2, 64, 64, 8] · [2, 1, 1, 8] (built-in)', a: [2, 64, 64, 8], b: [2, 1, 1, 8], widened: false },
  { name: 'same shape [128, 256] (built-in)', a: [128, 256], b: [128, 256], widened: false },
];

describe('Multiply, Add and Sub with a per-channel operand on wasm', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });

  it('plans wide rows only for per-channel broadcasts of large tensors', () => {
    expect(channelBroadcastPlan([2, 3072, 12, 32], [32])).toEqual({ vector: 'b', k: 32 });
    expect(channelBroadcastPlan([1, 48], [2, 32, 32, 48])).toEqual({ vector: 'a', k: 16 });
    // 21 rows of 1000: the largest divisor k with k·C ≤ 1024 is 1, so no plan.
    expect(channelBroadcastPlan([21, 1000], [1000])).toBeUndefined();
    expect(channelBroadcastPlan([2, 64, 64, 8], [2, 1, 1, 8])).toBeUndefined();
    expect(channelBroadcastPlan([64, 64, 8], [1, 1, 1, 8])).toBeUndefined();
    expect(channelBroadcastPlan([4, 8], [8])).toBeUndefined();
  });

  describe.each(OPS)('%s', (op) => {
    it.each(CASES.map((c) => [c.name, c]))('equals cpu exactly: %s', async (_name, c) => {
      const a = seededUniform(tf.util.sizeFromShape(c.a), 5);
      const b = seededUniform(tf.util.sizeFromShape(c.b), 6);
      const fn = () => apply(op, tf.tensor(a, c.a), tf.tensor(b, c.b));
      const cpu = await computeOn('cpu', fn);
      const builtIn = builtInWasmKernels.get(op)!;
      const spy = jest.spyOn(builtIn, 'kernelFunc');
      try {
        const wasm = await computeOn('wasm', fn);
        expect(wasm.shapes).toEqual(cpu.shapes);
        expect(Array.from(wasm.values[0])).toEqual(Array.from(cpu.values[0]));
        // The built-in kernel saw the widened [R/k, k·C] rows exactly when a plan exists.
        const seen = spy.mock.calls.map(([x]) => [(x.inputs.a as tf.TensorInfo).shape, (x.inputs.b as tf.TensorInfo).shape]);
        expect(seen).toHaveLength(1);
        expect(seen[0].some((s) => s.length === 2 && s[1] > c.a[c.a.length - 1])).toBe(c.widened);
      } finally {
        spy.mockRestore();
      }
    });
  });

  it('leaves int32 operands to the built-in kernel', async () => {
    await tf.setBackend('wasm');
    const data = Array.from({ length: 32768 }, (_, i) => i % 7);
    const y = tf.tidy(() => tf.mul(tf.tensor(data, [16384, 2], 'int32'), tf.tensor([3, -1], [2], 'int32')));
    expect(y.dtype).toBe('int32');
    expect(Array.from(await y.data())).toEqual(data.map((v, i) => (i % 2 === 0 ? 3 * v : 0 - v)));
    y.dispose();
  });

  it('gives the same gradient as cpu through a per-channel scale and shift', async () => {
    const x = seededUniform(2 * 64 * 64 * 8, 7);
    const w = seededUniform(8, 8);
    const fn = () => {
      const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.square(tf.sub(tf.mul(xx, ww), ww))));
      return g([tf.tensor(x, [2, 64, 64, 8]), tf.tensor(w, [8])]);
    };
    const cpu = await computeOn('cpu', fn);
    const wasm = await computeOn('wasm', fn);
    expect(wasm.values.length).toBe(2);
    for (let i = 0; i < 2; i++) {
      const ref = cpu.values[i];
      const err = Math.max(...Array.from(wasm.values[i], (v, j) => Math.abs(v - ref[j]) / Math.max(1, Math.abs(ref[j]))));
      expect(err).toBeLessThan(1e-4);
    }
  });

  it('frees every intermediate: tensors and wasm buffers stay flat across calls', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomUniform([2, 64, 64, 16]);
    const v = tf.randomUniform([16]);
    const { before, after } = memoryAfterRepeats(() => tf.dispose([tf.mul(x, v), tf.add(v, x), tf.sub(x, v)]));
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    tf.dispose([x, v]);
  });
});
