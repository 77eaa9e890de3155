import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { withCustomGrad } from './custom-grad';
import { defineOp, mergeDim, noMacs } from './op';

export const pillarMaxAttrs = z.object({
  /** Applies ReLU after the optional bias (the fused form `poolBeforeBias` writes). */
  relu: z.boolean().default(false),
});
export type PillarMaxAttrs = z.infer<typeof pillarMaxAttrs>;

/** Stands in for padded points; finite so that 0·fill stays 0 in ONNX arithmetic. */
const PAD_FILL = -3.4e38;

/**
 * Max over the real points of each pillar (PointPillars' PFN reduction). Inputs: `pointFeatures`
 * [P, M, C] (or with more leading dims) and `mask` [P, M], non-zero for a real point. Padded points
 * never win; a pillar without real points gives 0. The gradient goes to the first argmax only.
 * With the optional `bias` [C] and `relu`, a non-empty pillar gives relu(max + bias): the same as
 * pooling relu(x + bias), since adding a constant and ReLU are monotone, on a tensor M times smaller.
 *
 * @example
 * b.op('pillar_max', [pfnFeatures, pointMask]) // [P, C]
 */
export const pillarMax = defineOp<PillarMaxAttrs>({
  name: 'pillar_max',
  inputs: ['pointFeatures', 'mask', 'bias?'],
  attrs: pillarMaxAttrs,
  channels: { kind: 'through' },
  sign: 'preserves',
  macs: noMacs,
  differentiable: true,
  weight: null,
  infer([x, mask, bias]) {
    if (!x || !mask) throw new Error('pillar_max needs pointFeatures and mask');
    if (x.shape.length < 3) throw new Error(`pointFeatures must be [P, M, C], got [${x.shape}]`);
    if (bias) {
      if (bias.shape.length !== 1) throw new Error(`bias must be [C], got [${bias.shape}]`);
      mergeDim(bias.shape[0], x.shape[x.shape.length - 1], `bias [${bias.shape}] does not match the channels of pointFeatures [${x.shape}]`);
    }
    const lead = x.shape.slice(0, -1);
    if (mask.shape.length !== lead.length) throw new Error(`mask must be [${lead}] (pointFeatures without channels), got [${mask.shape}]`);
    lead.forEach((d, i) => mergeDim(d, mask.shape[i], `mask [${mask.shape}] does not match pointFeatures [${x.shape}]`));
    return [{ shape: [...x.shape.slice(0, -2), x.shape[x.shape.length - 1]], dtype: 'float32' }];
  },
  forward([x, mask, bias], attrs) {
    const axis = x!.rank - 2;
    const points = x!.shape[axis];
    // Float arithmetic with broadcasting only: on wasm, broadcasting bool/int kernels (Tile via
    // broadcastTo, Equal) run as scalar loops and took ~1 s each on the tiny model's 2×3072×12×32.
    const real = tf.cast(tf.notEqual(mask!, 0), 'float32');
    const penalty = tf.expandDims(tf.mul(tf.sub(1, real), PAD_FILL), -1);
    const nonEmpty = tf.expandDims(tf.max(real, -1), -1);
    const y = withCustomGrad([x!], ([features], save) => {
      const masked = tf.add(features, penalty);
      const best = tf.max(masked, axis, true);
      save([masked, best, nonEmpty]);
      return {
        // + 0 turns the −0 of an empty pillar (fill · 0) into 0.
        value: tf.add(tf.mul(tf.squeeze(best, [axis]), nonEmpty), 0),
        gradFunc: (dy, [sMasked, sBest, keep]) => {
          const routed = tf.mul(dy, keep);
          // One-hot of the first maximum (tf.argMax's choice) without ArgMax, which on wasm
          // transposes the points axis to the end first (≈ 15 ms on the tiny model's pillars):
          // the maxima weighted M, M−1, …, 1 by index, the first maximum is the largest weight.
          // Every step is exact: step(best − masked) is 1 below the maximum and 0 at it, and the
          // weights are small integers. tf.step rather than tf.sign, a scalar loop on wasm.
          const weights = tf.reshape(tf.range(points, 0, -1, 'float32'), [points, 1]);
          const atMax = tf.sub(1, tf.step(tf.sub(sBest, sMasked)));
          const score = tf.mul(atMax, weights);
          // score − (first − ½) is ½ at the first maximum and ≤ −½ elsewhere.
          const hot = tf.step(tf.sub(score, tf.sub(tf.max(score, axis, true), 0.5)));
          return tf.mul(hot, tf.expandDims(routed, axis));
        },
      };
    });
    if (!bias && !attrs.relu) return [y];
    // The empty pillars' 0 is applied after the bias and ReLU, as for the plain op.
    let pooled = bias ? tf.add(y, bias) : y;
    if (attrs.relu) pooled = tf.relu(pooled);
    return [tf.add(tf.mul(pooled, nonEmpty), 0)];
  },
  onnx(emit, attrs) {
    const rank = emit.inputInfo(0)!.shape.length;
    const node = (op: string, inputs: string[], hint: string, attrs = {}) => {
      const out = emit.temp(hint);
      emit.add(op, inputs, [out], attrs);
      return out;
    };
    // ReduceMax takes its axes as an attribute up to opset 17 and as an input from 18.
    const reduceMax = (v: string, axis: number, keepdims: number) =>
      emit.opset >= 18
        ? node('ReduceMax', [v, emit.constant([axis], [1], 'int64', 'axes')], 'max', { keepdims })
        : node('ReduceMax', [v], 'max', { axes: [axis], keepdims });
    const realF = node('Cast', [node('Cast', [emit.input(1)], 'real', { to: 9 })], 'real_f', { to: 1 });
    // As the forward: add a huge negative penalty to padded points. A broadcast Add is about twice
    // as fast in onnxruntime as a broadcast Where on the [B, pillars, points, C] features.
    const penalty = node('Mul', [node('Sub', [emit.constant([1], [], 'float32', 'one'), realF], 'padded'), emit.constant([PAD_FILL], [], 'float32', 'pad_fill')], 'penalty');
    const masked = node('Add', [emit.input(0), node('Unsqueeze', [penalty, emit.constant([-1], [1], 'int64', 'axis')], 'penalty_col')], 'masked');
    let pooled = reduceMax(masked, rank - 2, 0);
    if (emit.input(2)) pooled = node('Add', [pooled, emit.input(2)], 'biased');
    if (attrs.relu) pooled = node('Relu', [pooled], 'relu');
    const anyReal = reduceMax(realF, rank - 2, 1);
    const nonEmpty = node('Greater', [anyReal, emit.constant([0], [], 'float32', 'zero')], 'non_empty');
    emit.add('Where', [nonEmpty, pooled, emit.constant([0], [], 'float32', 'zero')], [emit.output(0)]);
  },
});

declare module './op' {
  interface OpAttrs {
    pillar_max: z.input<typeof pillarMaxAttrs>;
  }
}
