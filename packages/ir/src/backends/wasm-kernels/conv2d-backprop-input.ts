import * as tf from '@tensorflow/tfjs';
import { ConvBackpropAttrs, convGeometry, spreadAndPadGradient } from './conv-geometry';
import { WasmBackendHandle, withScope } from './kernel-scope';
import { canUseSubpixel, subpixelBackpropInput } from './subpixel-backprop-input';

/** Attributes of `Conv2DBackpropInput`; `dilations` is an extension tfjs-core never sends. */
export interface Conv2DBackpropInputAttrs extends ConvBackpropAttrs {
  inputShape: [number, number, number, number];
}

/**
 * Input gradient of an NHWC conv2d as one XNNPACK convolution: dy spread by the stride and
 * padded, convolved with the spatially flipped filter whose in/out channels are swapped.
 * Equal strides above 1 without dilation take the cheaper sub-pixel form instead.
 * Replaces the scalar loop tfjs-backend-wasm ships for this kernel.
 */
export function conv2dBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: WasmBackendHandle;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
  const g = convGeometry('Conv2DBackpropInput', attrs.inputShape, filter.shape, attrs, false);
  return withScope(args.backend, (s) => {
    if (canUseSubpixel(g)) return subpixelBackpropInput(s, dy, filter, g);
    const z = spreadAndPadGradient(s, dy, g);
    const flipped = s.transpose(s.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    return s.run(
      'Conv2D',
      { x: z, filter: flipped },
      { strides: 1, dilations: [g.dilationHeight, g.dilationWidth], pad: 'valid', dataFormat: 'NHWC' },
    );
  });
}

/** Kernel config for `Conv2DBackpropInput` on wasm, replacing the built-in one. */
export const conv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput as unknown as tf.KernelFunc,
};
