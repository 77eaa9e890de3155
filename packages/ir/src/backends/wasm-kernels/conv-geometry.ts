import * as tf from '@tensorflow/tfjs';
import type { KernelScope } from './kernel-scope';

/** Stride, dilation, padding and sizes of one NHWC 2-D convolution, resolved once. */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padLeft: number;
}

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/** Attributes the four convolution backprop kernels share. */
export interface ConvBackpropAttrs {
  strides: [number, number] | number;
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: [number, number] | number;
}

/**
 * Resolves the forward convolution's geometry from its input and filter shapes, the way
 * tfjs-core does for the forward kernel, so the backward pass pads exactly as the forward did.
 */
export function convGeometry(
  kernel: string,
  inShape: number[],
  filterShape: number[],
  attrs: ConvBackpropAttrs,
  depthwise: boolean,
): ConvGeometry {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`${kernel} on wasm: dataFormat must be 'NHWC', got '${attrs.dataFormat}'`);
  }
  if (inShape.length !== 4 || filterShape.length !== 4) {
    throw new Error(
      `${kernel} on wasm: expected rank-4 input and filter, got [${inShape}] and [${filterShape}]`,
    );
  }
  const info = tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * Pads (or crops) the forward input so that its height and width are exactly the span the
 * output reads: `(out − 1)·stride + (filter − 1)·dilation + 1`. Extra rows that a 'same' or
 * explicit padding adds at the end but no output touches are dropped.
 */
export function forwardInputPadding(g: ConvGeometry): [number, number][] {
  const spanH = (g.outHeight - 1) * g.strideHeight + (g.filterHeight - 1) * g.dilationHeight + 1;
  const spanW = (g.outWidth - 1) * g.strideWidth + (g.filterWidth - 1) * g.dilationWidth + 1;
  return [
    [0, 0],
    [g.padTop, spanH - g.inHeight - g.padTop],
    [g.padLeft, spanW - g.inWidth - g.padLeft],
    [0, 0],
  ];
}

/**
 * Spreads `dy` [N, OH, OW, C] by the forward stride (zeros between rows and columns) and pads it
 * so that a stride-1 'valid' convolution with the forward dilation and the spatially flipped
 * filter yields the input gradient [N, H, W, ·].
 */
export function spreadAndPadGradient(s: KernelScope, dy: tf.TensorInfo, g: ConvGeometry): tf.TensorInfo {
  const [n, oh, ow, c] = dy.shape;
  let z = dy;
  let trailH = 0;
  let trailW = 0;
  if (g.strideHeight > 1 || g.strideWidth > 1) {
    // [N, OH, 1, OW, 1, C] padded to [N, OH, sh, OW, sw, C] places each value at a multiple of the stride.
    const six = s.reshape(dy, [n, oh, 1, ow, 1, c]);
    const spread = s.padOrCrop(six, [[0, 0], [0, 0], [0, g.strideHeight - 1], [0, 0], [0, g.strideWidth - 1], [0, 0]]);
    z = s.reshape(spread, [n, oh * g.strideHeight, ow * g.strideWidth, c]);
    trailH = g.strideHeight - 1;
    trailW = g.strideWidth - 1;
  }
  const topH = (g.filterHeight - 1) * g.dilationHeight - g.padTop;
  const topW = (g.filterWidth - 1) * g.dilationWidth - g.padLeft;
  const bottomH = g.inHeight + g.padTop - (oh - 1) * g.strideHeight - 1 - trailH;
  const bottomW = g.inWidth + g.padLeft - (ow - 1) * g.strideWidth - 1 - trailW;
  return s.padOrCrop(z, [[0, 0], [topH, bottomH], [topW, bottomW], [0, 0]]);
}
