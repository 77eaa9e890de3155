import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../select-backend';
import { backpropErrorVsCpu, memoryAfterRepeats } from '../testing/backprop-check';
import { ConvCase, EDGE_CONV_CASES, convCases } from '../testing/conv-cases';
import { isPointwise } from './conv2d-backprop-filter';
import { convGeometry } from './conv-geometry';

// 1×1 stride-1 filters take the matrix-product path: more input than output channels, fewer, and
// a padded 1×1 (which must not take it).
const POINTWISE_CASES: ConvCase[] = (
  [
    [[2, 9, 7, 6], [1, 1, 6, 3], 'same'],
    [[1, 8, 8, 2], [1, 1, 2, 5], 'valid'],
    [[3, 5, 6, 4], [1, 1, 4, 4], 'same'],
    [[1, 6, 5, 3], [1, 1, 3, 2], [[0, 0], [1, 0], [0, 2], [0, 0]]],
  ] as [ConvCase['xShape'], ConvCase['filterShape'], ConvCase['pad']][]
).map(([xShape, filterShape, pad]) => ({
  name: `pointwise: x ${xShape} f ${filterShape} pad ${JSON.stringify(pad)}`,
  xShape,
  filterShape,
  strides: [1, 1],
  dilations: [1, 1],
  pad,
}));

describe('Conv2DBackpropFilter on wasm', () => {
  const kernel = { kernelName: tf.Conv2DBackpropFilter, depthwise: false, wrt: 'filter' as const };

  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });

  it.each([...convCases(101, false), ...EDGE_CONV_CASES, ...POINTWISE_CASES].map((c) => [c.name, c]))('matches cpu within 1e-4: %s', async (_name, c) => {
    expect(await backpropErrorVsCpu(kernel, c)).toBeLessThan(1e-4);
  });

  it('takes the matrix-product path for exactly the unpadded stride-1 1×1 filters', () => {
    const pointwise = POINTWISE_CASES.map((c) => isPointwise(convGeometry('test', c.xShape, c.filterShape, c, false)));
    expect(pointwise).toEqual([true, true, true, false]);
    const strided = EDGE_CONV_CASES[1];
    expect(isPointwise(convGeometry('test', strided.xShape, strided.filterShape, strided, false))).toBe(false);
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

  it('frees every intermediate on the 1×1 path, with either operand on the right', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomUniform([2, 6, 6, 5]);
    const narrow = tf.randomUniform([2, 6, 6, 3]);
    const wide = tf.randomUniform([2, 6, 6, 7]);
    const grad = (dy: tf.Tensor, cout: number) =>
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [1, 1, 5, cout] }) as tf.Tensor;
    const { before, after } = memoryAfterRepeats(() => tf.dispose([grad(narrow, 3), grad(wide, 7)]));
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    tf.dispose([x, narrow, wide]);
  });
});
