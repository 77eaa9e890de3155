import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { defineOp, mergeDim } from './op';

export const attentionAttrs = z.object({
  heads: z.number().int().positive(),
});
export type AttentionAttrs = z.infer<typeof attentionAttrs>;

/** x [B, L, D] · w [D, D] (+ b) as one 2-D matmul. */
function project(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | undefined): tf.Tensor {
  const [batch, len, d] = x.shape;
  const y = tf.matMul(x.reshape([batch * len, d]), w as tf.Tensor2D).reshape([batch, len, w.shape[1]!]);
  return b ? tf.add(y, b) : y;
}

/** [B, L, D] → [B, heads, L, D/heads]. */
function splitHeads(x: tf.Tensor, heads: number): tf.Tensor {
  const [batch, len, d] = x.shape;
  return tf.transpose(x.reshape([batch, len, heads, d / heads]), [0, 2, 1, 3]);
}

/**
 * Multi-head attention: softmax(Q·Kᵀ/√(D/heads))·V per head, with Q = query·wq + bq, K = key·wk + bk,
 * V = value·wv + bv, heads concatenated and projected by wo (+ bo). Inputs query [B, Lq, D], key and
 * value [B, Lk, D], weights [D, D] (in × out), biases [D] optional. Output [B, Lq, D].
 * ONNX: MatMul / Reshape / Transpose / Softmax.
 *
 * @example
 * b.op('attention', [queries, bevTokens, bevTokens, wq, wk, wv, wo], { heads: 8 }) // [B, Lq, D]
 */
export const attention = defineOp<AttentionAttrs>({
  name: 'attention',
  inputs: ['query', 'key', 'value', 'wq', 'wk', 'wv', 'wo', 'bq?', 'bk?', 'bv?', 'bo?'],
  attrs: attentionAttrs,
  channels: { kind: 'opaque' },
  sign: 'any',
  // Four D×D projections, then Q·Kᵀ and the weighted sum of V (Lq·Lk·D each over all heads).
  macs([q, k]) {
    const [batch, lq, d] = q!.shape;
    const lk = k!.shape[1];
    return batch * d * (2 * d * (lq + lk) + 2 * lq * lk);
  },
  differentiable: true,
  weight: null,
  infer(inputs, a) {
    const [q, k, v, ...rest] = inputs;
    if (!q || !k || !v) throw new Error('attention needs query, key and value');
    for (const [name, t] of [['query', q], ['key', k], ['value', v]] as const) {
      if (t.shape.length !== 3) throw new Error(`${name} must be [B, L, D], got [${t.shape}]`);
    }
    const d = mergeDim(mergeDim(q.shape[2], k.shape[2], 'key width differs from query width'), v.shape[2], 'value width differs from query width');
    mergeDim(k.shape[1], v.shape[1], `key length ${k.shape[1]} differs from value length ${v.shape[1]}`);
    const batch = mergeDim(mergeDim(q.shape[0], k.shape[0], 'key batch differs from query batch'), v.shape[0], 'value batch differs from query batch');
    if (d !== -1 && d % a.heads !== 0) throw new Error(`model width ${d} is not divisible by heads ${a.heads}`);
    ['wq', 'wk', 'wv', 'wo', 'bq', 'bk', 'bv', 'bo'].forEach((name, i) => {
      const t = rest[i];
      if (!t) return;
      const want = i < 4 ? [d, d] : [d];
      if (t.shape.length !== want.length || t.shape.some((s, j) => s !== want[j])) throw new Error(`${name} must be [${want}], got [${t.shape}]`);
    });
    return [{ shape: [batch, q.shape[1], d], dtype: 'float32' }];
  },
  forward([q, k, v, wq, wk, wv, wo, bq, bk, bv, bo], a) {
    const [batch, lq, d] = q!.shape;
    const qh = splitHeads(project(q!, wq!, bq), a.heads);
    const kh = splitHeads(project(k!, wk!, bk), a.heads);
    const vh = splitHeads(project(v!, wv!, bv), a.heads);
    const scores = tf.mul(tf.matMul(qh, kh, false, true), 1 / Math.sqrt(d / a.heads));
    const mixed = tf.matMul(tf.softmax(scores), vh);
    const merged = tf.transpose(mixed, [0, 2, 1, 3]).reshape([batch, lq, d]);
    return [project(merged, wo!, bo)];
  },
  onnx(emit, a) {
    const d = emit.inputInfo(0)!.shape[2];
    const node = (op: string, inputs: string[], hint: string, attrs = {}) => {
      const out = emit.temp(hint);
      emit.add(op, inputs, [out], attrs);
      return out;
    };
    const shape = (v: number[]) => emit.constant(v, [v.length], 'int64', 'shape');
    const proj = (x: string, w: number, b: number) => {
      const y = node('MatMul', [x, emit.input(w)], 'proj');
      return emit.input(b) ? node('Add', [y, emit.input(b)], 'proj_b') : y;
    };
    const heads = (x: string, perm: number[]) => node('Transpose', [node('Reshape', [x, shape([0, 0, a.heads, d / a.heads])], 'split')], 'heads', { perm });
    const qh = heads(proj(emit.input(0), 3, 7), [0, 2, 1, 3]);
    const khT = heads(proj(emit.input(1), 4, 8), [0, 2, 3, 1]);
    const vh = heads(proj(emit.input(2), 5, 9), [0, 2, 1, 3]);
    const scores = node('Mul', [node('MatMul', [qh, khT], 'qk'), emit.constant([1 / Math.sqrt(d / a.heads)], [], 'float32', 'scale')], 'scores');
    const mixed = node('MatMul', [node('Softmax', [scores], 'probs', { axis: -1 }), vh], 'mixed');
    const merged = node('Reshape', [node('Transpose', [mixed], 'merge', { perm: [0, 2, 1, 3] }), shape([0, 0, d])], 'merged');
    const out = node('MatMul', [merged, emit.input(6)], 'out');
    emit.add(emit.input(10) ? 'Add' : 'Identity', emit.input(10) ? [out, emit.input(10)] : [out], [emit.output(0)]);
  },
});

declare module './op' {
  interface OpAttrs {
    attention: z.input<typeof attentionAttrs>;
  }
}
