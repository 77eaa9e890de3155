import * as tf from '@tensorflow/tfjs';
import { ConvBackpropAttrs, convGeometry, forwardInputPadding } from './conv-geometry';
import { WasmBackendHandle, withScope } from './kernel-scope';

/** Attributes of `DepthwiseConv2dNativeBackpropFilter`. */
export interface DepthwiseBackpropFilterAttrs extends ConvBackpropAttrs {
  filterShape: [number, number, number, number];
}

/**
 * Filter gradient of a depthwise conv2d as one depthwise XNNPACK convolution.
 *
 * Every (channel, image) pair becomes its own depthwise channel: xpad as [1, H, W, C·N]
 * convolved with dy as [OH, OW, C·N, m] (dilation = forward stride, stride = forward
 * dilation) gives [1, fh, fw, C·N·m]; summing over N leaves [fh, fw, C, m].
 */
export function depthwiseConv2dBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: WasmBackendHandle;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as DepthwiseBackpropFilterAttrs;
  const g = convGeometry('DepthwiseConv2dNativeBackpropFilter', x.shape, attrs.filterShape, attrs, true);
  const [fh, fw, c, m] = attrs.filterShape;
  const n = g.batch;
  return withScope(args.backend, (s) => {
    const xPadded = s.padOrCrop(x, forwardInputPadding(g));
    const [, hp, wp] = xPadded.shape;
    const xPairs = s.reshape(s.transpose(xPadded, [1, 2, 3, 0]), [1, hp, wp, c * n]);
    const dy5 = s.reshape(dy, [n, g.outHeight, g.outWidth, c, m]);
    const dyPairs = s.reshape(s.transpose(dy5, [1, 2, 3, 0, 4]), [g.outHeight, g.outWidth, c * n, m]);
    const grad = s.run(
      'DepthwiseConv2dNative',
      { x: xPairs, filter: dyPairs },
      {
        strides: [g.dilationHeight, g.dilationWidth],
        dilations: [g.strideHeight, g.strideWidth],
        pad: 'valid',
      },
    );
    const perImage = s.reshape(grad, [fh, fw, c, n, m]);
    return n === 1 ? s.reshape(perImage, [fh, fw, c, m]) : s.sum(perImage, [3]);
  });
}

/** Kernel config for `DepthwiseConv2dNativeBackpropFilter` on wasm (missing from 4.22). */
export const depthwiseConv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dBackpropFilter as unknown as tf.KernelFunc,
};
