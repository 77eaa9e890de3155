import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../select-backend';
import { backpropErrorVsCpu, memoryAfterRepeats } from '../testing/backprop-check';
import { EDGE_CONV_CASES, convCases } from '../testing/conv-cases';

describe('Conv2DBackpropInput on wasm', () => {
  const kernel = { kernelName: tf.Conv2DBackpropInput, depthwise: false, wrt: 'input' as const };

  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });

  it.each([...convCases(202, false), ...EDGE_CONV_CASES].map((c) => [c.name, c]))('matches cpu within 1e-4: %s', async (_name, c) => {
    expect(await backpropErrorVsCpu(kernel, c)).toBeLessThan(1e-4);
  });

  it('frees every intermediate: tensors and wasm buffers stay flat across calls', async () => {
    await tf.setBackend('wasm');
    const a = tf.randomUniform([2, 5, 5, 4]);
    const b = tf.randomUniform([3, 3, 3, 4]);
    const { before, after } = memoryAfterRepeats(() =>
      (tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: a, filter: b }, {
        strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [2, 9, 9, 3],
      }) as tf.Tensor).dispose(),
    );
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    tf.dispose([a, b]);
  });
});
