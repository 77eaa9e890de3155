import * as tf from '@tensorflow/tfjs';
import { ConvBackpropAttrs, convGeometry, spreadAndPadGradient } from './conv-geometry';
import { WasmBackendHandle, withScope } from './kernel-scope';

/** Attributes of `DepthwiseConv2dNativeBackpropInput`. */
export interface DepthwiseBackpropInputAttrs extends ConvBackpropAttrs {
  inputShape: [number, number, number, number];
}

/**
 * Input gradient of a depthwise conv2d (filter [fh, fw, C, m]) as one depthwise XNNPACK
 * convolution of the spread, padded dy with the flipped filter seen as [fh, fw, C·m, 1],
 * followed by a sum over the channel multiplier when m > 1.
 */
export function depthwiseConv2dBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: WasmBackendHandle;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as DepthwiseBackpropInputAttrs;
  const g = convGeometry('DepthwiseConv2dNativeBackpropInput', attrs.inputShape, filter.shape, attrs, true);
  const [fh, fw, c, m] = filter.shape;
  return withScope(args.backend, (s) => {
    const z = spreadAndPadGradient(s, dy, g);
    const flipped = s.reshape(s.reverse(filter, [0, 1]), [fh, fw, c * m, 1]);
    const dx = s.run(
      'DepthwiseConv2dNative',
      { x: z, filter: flipped },
      { strides: 1, dilations: [g.dilationHeight, g.dilationWidth], pad: 'valid' },
    );
    if (m === 1) return dx;
    const [n, h, w] = dx.shape;
    return s.sum(s.reshape(dx, [n, h, w, c, m]), [4]);
  });
}

/** Kernel config for `DepthwiseConv2dNativeBackpropInput` on wasm (missing from 4.22). */
export const depthwiseConv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dBackpropInput as unknown as tf.KernelFunc,
};
