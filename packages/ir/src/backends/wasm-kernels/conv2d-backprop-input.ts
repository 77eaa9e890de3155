import * as tf from '@tensorflow/tfjs';
import { ConvBackpropAttrs, ConvGeometry, convGeometry, spreadAndPadGradient } from './conv-geometry';
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
    const flipped = s.transpose(s.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    const dilations = [g.dilationHeight, g.dilationWidth];
    const pads = stride1Padding(g);
    if (pads !== undefined) {
      // XNNPACK pads on the fly: no padded copy of dy.
      return s.run('Conv2D', { x: dy, filter: flipped }, { strides: 1, dilations, pad: [[0, 0], ...pads, [0, 0]], dataFormat: 'NHWC' });
    }
    const z = spreadAndPadGradient(s, dy, g);
    return s.run('Conv2D', { x: z, filter: flipped }, { strides: 1, dilations, pad: 'valid', dataFormat: 'NHWC' });
  });
}

/**
 * For stride 1, the zero padding of dy that {@link spreadAndPadGradient} would apply, as
 * [[top, bottom], [left, right]]; undefined when it would crop instead (a negative amount) or the
 * stride is above 1.
 */
function stride1Padding(g: ConvGeometry): [number, number][] | undefined {
  if (g.strideHeight !== 1 || g.strideWidth !== 1) return undefined;
  const pads: [number, number][] = [
    [(g.filterHeight - 1) * g.dilationHeight - g.padTop, g.inHeight + g.padTop - g.outHeight],
    [(g.filterWidth - 1) * g.dilationWidth - g.padLeft, g.inWidth + g.padLeft - g.outWidth],
  ];
  return pads.every(([b, a]) => b >= 0 && a >= 0) ? pads : undefined;
}

/** Kernel config for `Conv2DBackpropInput` on wasm, replacing the built-in one. */
export const conv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput as unknown as tf.KernelFunc,
};
