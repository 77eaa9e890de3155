import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { batchNormPlain, batchNormTrain } from '../backends/batch-norm-plain';
import type { OnnxNodeEmitter } from '../onnx/emitter';
import { emitChannelsFirst } from '../onnx/emitter';
import { defineOp, mergeDim, noMacs } from './op';

export const batchnormAttrs = z.strictObject({
  eps: z.number().positive().default(1e-5),
  /** PyTorch convention: running ← (1 − momentum)·running + momentum·batch. */
  momentum: z.number().min(0).max(1).default(0.1),
});
export type BatchnormAttrs = z.infer<typeof batchnormAttrs>;

/** Eval-form batch norm in ONNX arithmetic, for ranks BatchNormalization's channel axis does not fit. */
function emitArithmetic(emit: OnnxNodeEmitter, eps: number): void {
  const step = (type: string, inputs: string[], out = emit.temp(`bn_${type.toLowerCase()}`)) => {
    emit.add(type, inputs, [out]);
    return out;
  };
  const std = step('Sqrt', [step('Add', [emit.input(4), emit.constant([eps], [], 'float32', 'bn_eps')])]);
  const scale = step('Div', [emit.input(1), std]);
  const centred = step('Sub', [emit.input(0), emit.input(3)]);
  step('Add', [step('Mul', [centred, scale]), emit.input(2)], emit.output(0));
}

/**
 * Batch normalisation over the last (channel) axis of a channels-last tensor.
 *
 * Inputs: x (…, C), gamma [C], beta [C], runningMean [C], runningVar [C]. In training mode it
 * normalises with the biased batch variance over every axis but the last and hands the updated running
 * statistics (unbiased variance, PyTorch's momentum convention) to `ctx.setState` for inputs 3 and 4;
 * in eval mode it uses the running statistics. Training uses {@link batchNormTrain} (closed-form
 * gradient), eval plain broadcasting arithmetic: tfjs's fused batch-norm gradient tiles, which is slow on wasm. ONNX: eval-form `BatchNormalization`
 * (transposed to NCHW for rank 4), plain arithmetic for ranks other than 2 and 4.
 *
 * @example
 * const y = b.op('batchnorm', [conv, gamma, beta, mean, variance], { momentum: 0.01 });
 */
export const batchnormOp = defineOp<BatchnormAttrs>({
  name: 'batchnorm',
  inputs: ['x', 'gamma', 'beta', 'runningMean', 'runningVar'],
  attrs: batchnormAttrs,
  channels: { kind: 'through', perChannelInputs: [1, 2, 3, 4] },
  sign: 'any',
  // Folds into the preceding conv/dense at deployment.
  macs: noMacs,
  differentiable: true,
  weight: null,
  infer([x, ...stats]) {
    if (!x || stats.some((s) => !s))
      throw new Error('batchnorm needs x, gamma, beta, runningMean and runningVar');
    if (x.shape.length < 2) throw new Error(`x must be (batch, …, channels) of rank ≥ 2, got [${x.shape}]`);
    const c = x.shape[x.shape.length - 1];
    ['gamma', 'beta', 'runningMean', 'runningVar'].forEach((slot, i) => {
      const s = stats[i]!;
      if (s.shape.length !== 1) throw new Error(`${slot} must be [channels], got [${s.shape}]`);
      mergeDim(s.shape[0], c, `${slot} length does not match the ${c} channels of x`);
    });
    return [{ shape: [...x.shape], dtype: 'float32' }];
  },
  forward([x, gamma, beta, runningMean, runningVar], a, ctx) {
    const t = x!;
    if (!ctx.training) return [batchNormPlain(t, runningMean!, runningVar!, gamma, beta, a.eps)];
    const count = t.size / t.shape[t.rank - 1];
    if (count < 2) throw new Error(`training needs more than one value per channel, got x [${t.shape}]`);
    const { y, mean, variance } = batchNormTrain(t, gamma!, beta!, a.eps);
    const blend = (old: tf.Tensor, batch: tf.Tensor) =>
      tf.add(tf.mul(old, 1 - a.momentum), tf.mul(batch, a.momentum));
    ctx.setState(3, blend(runningMean!, mean));
    ctx.setState(4, blend(runningVar!, tf.mul(variance, count / (count - 1))));
    tf.dispose([mean, variance]);
    return [y];
  },
  onnx(emit, a) {
    const rank = emit.inputInfo(0)!.shape.length;
    if (rank !== 2 && rank !== 4) return emitArithmetic(emit, a.eps);
    const attrs = { epsilon: { f: a.eps }, momentum: { f: 1 - a.momentum } };
    const stats = [1, 2, 3, 4].map((i) => emit.input(i));
    if (rank === 2) emit.add('BatchNormalization', [emit.input(0), ...stats], [emit.output(0)], attrs);
    else emitChannelsFirst(emit, (x, y) => emit.add('BatchNormalization', [x, ...stats], [y], attrs));
  },
});

declare module './op' {
  interface OpAttrs {
    batchnorm: z.input<typeof batchnormAttrs>;
  }
}
