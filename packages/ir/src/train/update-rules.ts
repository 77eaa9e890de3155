import * as tf from '@tensorflow/tfjs';

/** Slot names each optimizer keeps per param (PyTorch's names, so states are easy to compare). */
export const SLOT_NAMES = {
  sgd: ['momentum_buffer'],
  adam: ['exp_avg', 'exp_avg_sq'],
  adamw: ['exp_avg', 'exp_avg_sq'],
} as const;

/**
 * What an update rule sees for one param, or for several params sharing lr, decay and step
 * flattened into one vector: the optimizer batches them so, which holds only for elementwise rules
 * (a rule with a per-tensor norm, as LAMB's trust ratio, needs its own grouping).
 */
export interface RuleInput {
  param: tf.Tensor;
  grad: tf.Tensor;
  /** Current slot values; zeros before the first update, which makes the first step match PyTorch's. */
  slots: Record<string, tf.Tensor>;
  /** Effective learning rate of this param (schedule × group multiplier). */
  lr: number;
  weightDecay: number;
  /** 1-based count of updates of this param, including this one. */
  t: number;
}

/** New param value and slot values, to be assigned by the optimizer. */
export interface RuleOutput {
  param: tf.Tensor;
  slots: Record<string, tf.Tensor>;
}

/**
 * SGD as `torch.optim.SGD` (dampening 0): d = g + wd·p; buf = μ·buf + d; d = nesterov ? d + μ·buf : buf;
 * p ← p − lr·d. With μ = 0 no buffer is kept.
 */
export function sgdRule(input: RuleInput, momentum: number, nesterov: boolean): RuleOutput {
  const { param, lr, weightDecay } = input;
  let d = weightDecay !== 0 ? tf.add(input.grad, tf.mul(param, weightDecay)) : input.grad;
  const slots: Record<string, tf.Tensor> = {};
  if (momentum !== 0) {
    const buf = tf.add(tf.mul(input.slots.momentum_buffer, momentum), d);
    slots.momentum_buffer = buf;
    d = nesterov ? tf.add(d, tf.mul(buf, momentum)) : buf;
  }
  return { param: tf.sub(param, tf.mul(d, lr)), slots };
}

/**
 * Adam / AdamW as `torch.optim.Adam(W)` (amsgrad off). Adam adds wd·p to the gradient (L2); AdamW
 * shrinks the weights first, p ← p·(1 − lr·wd), so the decay does not pass through the moments.
 * m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε).
 */
export function adamRule(input: RuleInput, betas: [number, number], eps: number, decoupled: boolean): RuleOutput {
  const { lr, weightDecay, t } = input;
  const [b1, b2] = betas;
  let { param, grad } = input;
  if (weightDecay !== 0) {
    if (decoupled) param = tf.mul(param, 1 - lr * weightDecay);
    else grad = tf.add(grad, tf.mul(param, weightDecay));
  }
  const m = tf.add(tf.mul(input.slots.exp_avg, b1), tf.mul(grad, 1 - b1));
  const v = tf.add(tf.mul(input.slots.exp_avg_sq, b2), tf.mul(tf.square(grad), 1 - b2));
  const stepSize = lr / (1 - Math.pow(b1, t));
  const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(1 - Math.pow(b2, t))), eps);
  return { param: tf.sub(param, tf.mul(tf.div(m, denom), stepSize)), slots: { exp_avg: m, exp_avg_sq: v } };
}
