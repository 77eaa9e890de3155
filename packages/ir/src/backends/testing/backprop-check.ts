import * as tf from '@tensorflow/tfjs';
import { computeOn, relativeError, seededUniform } from './compare-backends';
import { ConvCase, convOutSize, dilateFilter, undilateFilter } from './conv-cases';

/** Which convolution backprop kernel to check. */
export interface BackpropKernel {
  kernelName: string;
  depthwise: boolean;
  /** `filter` for *BackpropFilter kernels (inputs x, dy), `input` for *BackpropInput (dy, filter). */
  wrt: 'filter' | 'input';
}

/**
 * Runs one backprop kernel on wasm (with `dilations`) and on cpu and returns the relative
 * error. The cpu kernels ignore dilation, so the reference runs the undilated convolution with
 * the zero-spread filter, keeping every d-th tap of a filter gradient.
 */
export async function backpropErrorVsCpu(k: BackpropKernel, c: ConvCase): Promise<number> {
  const [oh, ow] = convOutSize(c);
  const [n] = c.xShape;
  const outChannels = k.depthwise ? c.xShape[3] * c.filterShape[3] : c.filterShape[3];
  const dyShape = [n, oh, ow, outChannels];
  const x = seededUniform(tf.util.sizeFromShape(c.xShape), 1);
  const dy = seededUniform(tf.util.sizeFromShape(dyShape), 2);
  const filter = seededUniform(tf.util.sizeFromShape(c.filterShape), 3);
  const dilated = dilateFilter(filter, c.filterShape, c.dilations[0], c.dilations[1]);
  const common = { strides: c.strides, pad: c.pad, ...(k.depthwise ? {} : { dataFormat: 'NHWC' }) };

  const run = (reference: boolean) => () => {
    const attrs = { ...common, dilations: reference ? [1, 1] : c.dilations };
    if (k.wrt === 'filter') {
      const filterShape = reference ? dilated.shape : c.filterShape;
      const inputs = { x: tf.tensor(x, c.xShape), dy: tf.tensor(dy, dyShape) };
      return tf.engine().runKernel(k.kernelName, inputs, { ...attrs, filterShape }) as tf.Tensor;
    }
    const f = reference ? tf.tensor(dilated.data, dilated.shape) : tf.tensor(filter, c.filterShape);
    const inputs = { dy: tf.tensor(dy, dyShape), filter: f };
    return tf.engine().runKernel(k.kernelName, inputs, { ...attrs, inputShape: c.xShape }) as tf.Tensor;
  };
  const cpu = await computeOn('cpu', run(true));
  const wasm = await computeOn('wasm', run(false));
  const expectedShape = k.wrt === 'filter' ? c.filterShape : c.xShape;
  if (wasm.shapes[0].join() !== expectedShape.join()) {
    throw new Error(`${k.kernelName}: wasm shape [${wasm.shapes[0]}], expected [${expectedShape}]`);
  }
  const reference =
    k.wrt === 'filter' ? undilateFilter(cpu.values[0], dilated.shape, c.dilations[0], c.dilations[1]) : cpu.values[0];
  return relativeError(wasm.values[0], reference);
}

/** Tensors and backend buffers after `step` runs three more times, for leak checks. */
export function memoryAfterRepeats(step: () => void): { before: tf.MemoryInfo; after: tf.MemoryInfo } {
  step();
  const before = tf.memory();
  for (let i = 0; i < 3; i++) step();
  return { before, after: tf.memory() };
}
