import * as tf from '@tensorflow/tfjs';
import { initBackend } from './select-backend';
import { computeOn, relativeError, seededUniform } from './testing/compare-backends';
import { tinyConvNet, tinyConvNetLoss, tinyConvNetWeights } from './testing/tiny-conv-net';

const X_SHAPE: [number, number, number, number] = [2, 12, 10, 3];
const WIDTH = 6;

function netGradients(): tf.Tensor[] {
  const net = tinyConvNet(3, WIDTH, 3, 21);
  const x = tf.tensor(seededUniform(2 * 12 * 10 * 3, 22), X_SHAPE) as tf.Tensor4D;
  const target = tf.tensor(seededUniform(2 * 6 * 5 * WIDTH, 23), [2, 6, 5, WIDTH]) as tf.Tensor4D;
  const weights = tinyConvNetWeights(net);
  const { value, grads } = tf.variableGrads(() => tinyConvNetLoss(net, x, target), weights);
  const out = [value, ...weights.map((w) => grads[w.name])];
  tf.dispose(weights);
  return out;
}

describe('training gradients on wasm', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });

  it.each([
    [1, 'same'],
    [2, 'same'],
    [2, 'valid'],
  ] as const)('tf.grads of conv2d (stride %i, %s) equals cpu', async (stride, pad) => {
    const grads = () => {
      const x = tf.tensor(seededUniform(2 * 9 * 8 * 3, 1), [2, 9, 8, 3]) as tf.Tensor4D;
      const w = tf.tensor(seededUniform(3 * 3 * 3 * 4, 2), [3, 3, 3, 4]) as tf.Tensor4D;
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad)));
      return tf.grads(f)([x, w]);
    };
    const cpu = await computeOn('cpu', grads);
    const wasm = await computeOn('wasm', grads);
    cpu.values.forEach((ref, i) => expect(relativeError(wasm.values[i], ref)).toBeLessThan(1e-4));
  });

  it('gradients of a conv net with batch norm and a depthwise conv equal cpu', async () => {
    const cpu = await computeOn('cpu', netGradients);
    const wasm = await computeOn('wasm', netGradients);
    expect(wasm.shapes).toEqual(cpu.shapes);
    cpu.values.forEach((ref, i) => expect(relativeError(wasm.values[i], ref)).toBeLessThan(1e-4));
    expect(Math.max(...cpu.values[1].map(Math.abs))).toBeGreaterThan(1e-4);
  });

  it('keeps tensor and buffer counts flat across Adam training steps and leaves nothing behind', async () => {
    await tf.setBackend('wasm');
    const start = tf.memory().numTensors;
    const net = tinyConvNet(3, WIDTH, 3, 31);
    const x = tf.randomUniform(X_SHAPE) as tf.Tensor4D;
    const target = tf.randomUniform([2, 6, 5, WIDTH]) as tf.Tensor4D;
    const optimizer = tf.train.adam(1e-3);
    const step = () => optimizer.minimize(() => tinyConvNetLoss(net, x, target), false, tinyConvNetWeights(net));
    step();
    const before = tf.memory();
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    optimizer.dispose();
    tf.dispose([x, target, ...tinyConvNetWeights(net)]);
    expect(tf.memory().numTensors).toBe(start);
  });
});
