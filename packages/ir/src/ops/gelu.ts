import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { OnnxNodeEmitter } from '../onnx/emitter';
import { defineUnaryOp } from './unary-op';

export const geluAttrs = z.strictObject({
  /** 'none' is the exact x·Φ(x) (PyTorch's default); 'tanh' the tanh approximation. */
  approximate: z.enum(['none', 'tanh']).default('none'),
});
export type GeluAttrs = z.infer<typeof geluAttrs>;

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const CUBIC = 0.044715;

/** x·Φ(x), exactly through erf or by the tanh approximation. */
export function geluForward(x: tf.Tensor, approximate: GeluAttrs['approximate']): tf.Tensor {
  return tf.tidy(() => {
    const inner =
      approximate === 'tanh'
        ? tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), CUBIC)), SQRT_2_OVER_PI))
        : tf.erf(tf.mul(x, Math.SQRT1_2));
    return tf.mul(tf.mul(x, 0.5), tf.add(inner, 1));
  });
}

function scalar(emit: OnnxNodeEmitter, v: number, hint: string): string {
  return emit.constant([v], [], 'float32', hint);
}

/** The same formula in ONNX primitives, for opsets before `Gelu` (20). */
function emitDecomposed(
  emit: OnnxNodeEmitter,
  x: string,
  y: string,
  approximate: GeluAttrs['approximate'],
): void {
  const step = (type: string, inputs: string[]) => {
    const out = emit.temp(`gelu_${type.toLowerCase()}`);
    emit.add(type, inputs, [out]);
    return out;
  };
  let inner: string;
  if (approximate === 'tanh') {
    const cube = step('Mul', [step('Mul', [x, x]), x]);
    const poly = step('Add', [x, step('Mul', [cube, scalar(emit, CUBIC, 'gelu_cubic')])]);
    inner = step('Tanh', [step('Mul', [poly, scalar(emit, SQRT_2_OVER_PI, 'gelu_k')])]);
  } else {
    inner = step('Erf', [step('Mul', [x, scalar(emit, Math.SQRT1_2, 'gelu_rsqrt2')])]);
  }
  const half = step('Mul', [x, scalar(emit, 0.5, 'gelu_half')]);
  emit.add('Mul', [half, step('Add', [inner, scalar(emit, 1, 'gelu_one')])], [y]);
}

/**
 * Gaussian error linear unit, x·Φ(x) element-wise. ONNX `Gelu` from opset 20, the formula in
 * `Erf`/`Tanh` and arithmetic below it.
 *
 * @example
 * const y = b.op('gelu', [x], { approximate: 'tanh' });
 */
export const geluOp = defineUnaryOp<GeluAttrs>({
  name: 'gelu',
  // GELU dips below zero (to about −0.17) for negative inputs.
  sign: 'any',
  attrs: geluAttrs,
  fn: (x, a) => geluForward(x, a.approximate),
  onnx(emit, x, y, a) {
    if (emit.opset >= 20) emit.add('Gelu', [x], [y], { approximate: a.approximate });
    else emitDecomposed(emit, x, y, a.approximate);
  },
});

declare module './op' {
  interface OpAttrs {
    gelu: z.input<typeof geluAttrs>;
  }
}
