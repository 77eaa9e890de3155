import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../select-backend';
import { backpropErrorVsCpu, memoryAfterRepeats } from '../testing/backprop-check';
import { EDGE_CONV_CASES, convCases } from '../testing/conv-cases';

describe('Conv2DBackpropFilter on wasm', () => {
  const kernel = { kernelName: tf.Conv2DBackpropFilter, depthwise: false, wrt: 'filter' as const };

  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });

  it.each([...convCases(101, false), ...EDGE_CONV_CASES].map((c) => [c.name, c]))('matches cpu within 1e-4: %s', async (_name, c) => {
    expect(await backpropErrorVsCpu(kernel, c)).toBeLessThan(1e-4);
  });

  it('rejects NCHW data with a message naming the kernel and the expected format', async () => {
    await tf.setBackend('wasm');
    const call = () =>
      tf.tidy(() =>
        tf.engine().runKernel(
          tf.Conv2DBackpropFilter,
          { x: tf.zeros([1, 4, 4, 2]), dy: tf.zeros([1, 4, 4, 3]) },
          { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 3] },
        ),
      );
    expect(call).toThrow(/Conv2DBackpropFilter on wasm: dataFormat must be 'NHWC'/);
  });

  it('frees every intermediate: tensors and wasm buffers stay flat across calls', async () => {
    await tf.setBackend('wasm');
    const a = tf.randomUniform([2, 9, 9, 3]);
    const b = tf.randomUniform([2, 5, 5, 4]);
    const { before, after } = memoryAfterRepeats(() =>
      (tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: a, dy: b }, {
        strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4],
      }) as tf.Tensor).dispose(),
    );
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    tf.dispose([a, b]);
  });
});
