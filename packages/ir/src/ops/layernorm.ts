import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { OnnxNodeEmitter } from '../onnx/emitter';
import { defineOp, mergeDim, noMacs } from './op';
import { emitReduce } from './reduce';

export const layernormAttrs = z.strictObject({
  eps: z.number().positive().default(1e-5),
});
export type LayernormAttrs = z.infer<typeof layernormAttrs>;

/** LayerNormalization spelled out in ReduceMean and arithmetic, for opsets before 17. */
function emitDecomposed(emit: OnnxNodeEmitter, eps: number): void {
  const step = (type: string, inputs: string[], out = emit.temp(`ln_${type.toLowerCase()}`)) => {
    emit.add(type, inputs, [out]);
    return out;
  };
  const x = emit.input(0);
  const mean = emit.temp('ln_mean');
  emitReduce(emit, 'ReduceMean', x, mean, [-1], true);
  const centred = step('Sub', [x, mean]);
  const variance = emit.temp('ln_var');
  emitReduce(emit, 'ReduceMean', step('Mul', [centred, centred]), variance, [-1], true);
  const std = step('Sqrt', [step('Add', [variance, emit.constant([eps], [], 'float32', 'ln_eps')])]);
  const normed = step('Div', [centred, std]);
  step('Add', [step('Mul', [normed, emit.input(1)]), emit.input(2)], emit.output(0));
}

/**
 * Layer normalisation over the last axis: (x − mean) / √(var + ε) · gamma + beta, with the biased
 * variance (as PyTorch). Inputs x (…, C), gamma [C], beta [C]. ONNX `LayerNormalization` from
 * opset 17, decomposed before it.
 *
 * @example
 * const y = b.op('layernorm', [tokens, b.param('ln.gamma', [256], { init: { kind: 'ones' }, role: 'norm' }), b.param('ln.beta', [256], { role: 'norm' })]);
 */
export const layernormOp = defineOp<LayernormAttrs>({
  name: 'layernorm',
  inputs: ['x', 'gamma', 'beta'],
  attrs: layernormAttrs,
  // Normalises across the channel axis, so removing a channel changes the others.
  channels: { kind: 'opaque' },
  sign: 'any',
  macs: noMacs,
  differentiable: true,
  weight: null,
  infer([x, gamma, beta]) {
    if (!x || !gamma || !beta) throw new Error('layernorm needs x, gamma and beta');
    if (x.shape.length < 1) throw new Error('x must have at least one axis');
    const c = x.shape[x.shape.length - 1];
    for (const [slot, s] of [
      ['gamma', gamma],
      ['beta', beta],
    ] as const) {
      if (s.shape.length !== 1) throw new Error(`${slot} must be [features], got [${s.shape}]`);
      mergeDim(s.shape[0], c, `${slot} length does not match the last axis of x [${x.shape}]`);
    }
    return [{ shape: [...x.shape], dtype: 'float32' }];
  },
  forward([x, gamma, beta], a) {
    const t = x!;
    const { mean, variance } = tf.moments(t, -1, true);
    const normed = tf.mul(tf.sub(t, mean), tf.rsqrt(tf.add(variance, a.eps)));
    return [tf.add(tf.mul(normed, gamma!), beta!)];
  },
  onnx(emit, a) {
    if (emit.opset < 17) return emitDecomposed(emit, a.eps);
    emit.add('LayerNormalization', [emit.input(0), emit.input(1), emit.input(2)], [emit.output(0)], {
      axis: -1,
      epsilon: { f: a.eps },
    });
  },
});

declare module './op' {
  interface OpAttrs {
    layernorm: z.input<typeof layernormAttrs>;
  }
}
