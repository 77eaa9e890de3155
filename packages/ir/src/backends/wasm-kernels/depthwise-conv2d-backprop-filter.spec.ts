import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../select-backend';
import { backpropErrorVsCpu, memoryAfterRepeats } from '../testing/backprop-check';
import { convCases } from '../testing/conv-cases';

describe('DepthwiseConv2dNativeBackpropFilter on wasm', () => {
  const kernel = { kernelName: tf.DepthwiseConv2dNativeBackpropFilter, depthwise: true, wrt: 'filter' as const };

  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });

  it.each(convCases(303, true).map((c) => [c.name, c]))('matches cpu within 1e-4: %s', async (_name, c) => {
    expect(await backpropErrorVsCpu(kernel, c)).toBeLessThan(1e-4);
  });

  it('frees every intermediate: tensors and wasm buffers stay flat across calls', async () => {
    await tf.setBackend('wasm');
    const a = tf.randomUniform([2, 9, 9, 3]);
    const b = tf.randomUniform([2, 5, 5, 6]);
    const { before, after } = memoryAfterRepeats(() =>
      (tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x: a, dy: b }, {
        strides: 2, dilations: 1, pad: 'same', filterShape: [3, 3, 3, 2],
      }) as tf.Tensor).dispose(),
    );
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    tf.dispose([a, b]);
  });
});
