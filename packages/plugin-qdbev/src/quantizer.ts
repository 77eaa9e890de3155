import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES } from '@bevzip/ir';

/**
 * Integer range of a k-bit quantizer: signed [−2^{k−1}, 2^{k−1} − 1], or unsigned [0, 2^k − 1]
 * for values known to be non-negative (ReLU outputs).
 */
export function intRange(bits: number, signed: boolean): { qmin: number; qmax: number } {
  if (!(Number.isInteger(bits) && bits >= 2 && bits <= 8)) {
    throw new BevzipError(ERROR_CODES.CONFIG, `quantizer: bits must be an integer from 2 to 8, got ${bits}`);
  }
  return signed ? { qmin: -(2 ** (bits - 1)), qmax: 2 ** (bits - 1) - 1 } : { qmin: 0, qmax: 2 ** bits - 1 };
}

/**
 * Step size S of a zero-point-free k-bit quantizer for a range |r| ≤ absMax: signed S = 2·absMax/(2^k − 1)
 * (QD-BEV Eq. 1), unsigned S = absMax/(2^k − 1). A zero range gets S = 1 so that q = 0 everywhere
 * rather than NaN.
 */
export function quantScale(absMax: number, bits: number, signed: boolean): number {
  intRange(bits, signed);
  const s = ((signed ? 2 : 1) * absMax) / (2 ** bits - 1);
  return s > 0 && Number.isFinite(s) ? s : 1;
}

/**
 * Fake quantization S·clamp(round(x/S), qmin, qmax) with a straight-through gradient: dy passes
 * where x/S lies within half a step of the integer range and is zero where the clamp saturates.
 * `scale` is a number or a tensor broadcasting to x. Rounding is half to even, as ONNX
 * QuantizeLinear rounds.
 */
export function fakeQuant(x: tf.Tensor, scale: tf.Tensor | number, bits: number, signed: boolean): tf.Tensor {
  return steQuant(x, () => (typeof scale === 'number' ? tf.scalar(scale) : scale), bits, signed);
}

/** The STE quantizer; the step is computed inside the custom gradient, so no gradient reaches it. */
function steQuant(x: tf.Tensor, stepOf: (x: tf.Tensor) => tf.Tensor, bits: number, signed: boolean): tf.Tensor {
  const { qmin, qmax } = intRange(bits, signed);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const step = stepOf(input);
    const scaled = tf.div(input, step);
    save([scaled]);
    return {
      value: tf.mul(tf.clipByValue(tf.round(scaled), qmin, qmax), step),
      gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => {
        const inside = tf.logicalAnd(tf.greaterEqual(saved, qmin - 0.5), tf.lessEqual(saved, qmax + 0.5));
        return tf.mul(dy, tf.cast(inside, 'float32'));
      },
    };
  });
  return op(x) as tf.Tensor;
}

/**
 * max|w| per slice along `axis` (the output channel), as a tensor shaped to broadcast against w
 * (size 1 on every other axis).
 */
export function channelAbsMax(w: tf.Tensor, axis: number): tf.Tensor {
  const ax = axis < 0 ? w.rank + axis : axis;
  const others = Array.from({ length: w.rank }, (_, i) => i).filter((i) => i !== ax);
  return tf.max(tf.abs(w), others, true);
}

/**
 * Per-output-channel symmetric fake quantization of a weight: S_c = 2·max|w_c|/(2^k − 1), with the
 * STE of {@link fakeQuant}. Scales carry no gradient (they follow the weights, not the reverse).
 */
export function fakeQuantPerChannel(w: tf.Tensor, bits: number, axis: number): tf.Tensor {
  return steQuant(
    w,
    (input) => {
      const raw = tf.div(tf.mul(channelAbsMax(input, axis), 2), 2 ** bits - 1);
      return tf.where(tf.greater(raw, 0), raw, tf.onesLike(raw));
    },
    bits,
    true,
  );
}

/** Host reference: integer codes of `data` for per-slice scales along `axis` of a row-major array. */
export function quantizeCodes(data: ArrayLike<number>, dims: readonly number[], scales: ArrayLike<number>, axis: number, bits: number, signed: boolean): Int32Array {
  const { qmin, qmax } = intRange(bits, signed);
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const c = scales.length === 1 ? 0 : Math.floor(i / inner) % dims[axis];
    out[i] = Math.min(qmax, Math.max(qmin, roundHalfEven(data[i] / scales[c])));
  }
  return out;
}

/** Round half to even (banker's rounding), the rounding of tf.round and ONNX QuantizeLinear. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
