import * as tf from '@tensorflow/tfjs';

/** Mean binary cross-entropy of logits against a constant label, in the overflow-free form max(x,0) − x·y + log(1 + e^−|x|). */
export function bceWithLogits(logits: tf.Tensor, label: 0 | 1 | tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const y = typeof label === 'number' ? tf.scalar(label) : label;
    const l = tf.add(tf.sub(tf.relu(logits), tf.mul(logits, y)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))));
    return tf.mean(l) as tf.Scalar;
  });
}

/** Reduces patch logits [B, h, w, 1] to one logit per sample for the 'global' discriminator. */
export function discLogits(logits: tf.Tensor, output: 'patch' | 'global'): tf.Tensor {
  return output === 'patch' ? logits : tf.mean(logits, [1, 2, 3]);
}

/**
 * X-AT: the discriminator's loss BCE(D(B_T), 1) + BCE(D(B_S), 0). Behind the gradient-reversal op the
 * same term trains the discriminator (descending it) and the student (ascending it, scaled by λ).
 */
export function adversarialLoss(teacherLogits: tf.Tensor, studentLogits: tf.Tensor, output: 'patch' | 'global'): tf.Scalar {
  return tf.tidy(() => tf.add(bceWithLogits(discLogits(teacherLogits, output), 1), bceWithLogits(discLogits(studentLogits, output), 0)) as tf.Scalar);
}

/**
 * The generator's side of X-AT written without reversal, BCE(D(B_S), 1) (for reference and for
 * monitoring how well the student fools the discriminator).
 */
export function generatorLoss(studentLogits: tf.Tensor, output: 'patch' | 'global'): tf.Scalar {
  return bceWithLogits(discLogits(studentLogits, output), 1);
}

/**
 * CenterPoint's Gaussian focal loss of heat-map logits against a target in [0, 1] whose positives
 * are exactly 1: Σ[y=1](1−p)^α·(−log p) + Σ[y<1](1−y)^γ·p^α·(−log(1−p)), over max(1, #positives);
 * p = clamp(σ(logits), 1e-4, 1 − 1e-4).
 */
export function gaussianFocalLoss(logits: tf.Tensor, target: tf.Tensor, alpha = 2, gamma = 4): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.clipByValue(tf.sigmoid(logits), 1e-4, 1 - 1e-4);
    const pos = tf.cast(tf.greaterEqual(target, 1), 'float32');
    const neg = tf.sub(1, pos);
    const posLoss = tf.mul(tf.mul(tf.neg(tf.log(p)), tf.pow(tf.sub(1, p), alpha)), pos);
    const negLoss = tf.mul(tf.mul(tf.mul(tf.neg(tf.log(tf.sub(1, p))), tf.pow(p, alpha)), tf.pow(tf.sub(1, target), gamma)), neg);
    return tf.div(tf.add(tf.sum(posLoss), tf.sum(negLoss)), tf.maximum(tf.sum(pos), 1)) as tf.Scalar;
  });
}

/** Element-wise Smooth-L1 with transition β: 0.5·d²/β below β, |d| − 0.5·β above. */
export function smoothL1(d: tf.Tensor, beta: number): tf.Tensor {
  return tf.tidy(() => {
    // With q = min(|d|, β): 0.5·q²/β + (|d| − q), the same piecewise function without a comparison op (which has no gradient in tfjs).
    const a = tf.abs(d);
    const q = tf.minimum(a, beta);
    return tf.add(tf.div(tf.mul(0.5, tf.square(q)), beta), tf.sub(a, q));
  });
}

/**
 * Weighted box distillation: Σ_cells w · mean_ch SmoothL1(reg_S − reg_T) / Σ_cells w, with w [B, H, W]
 * the per-cell weight (teacher confidence at pseudo-label centres, 0 elsewhere); 0 when Σ w = 0.
 */
export function weightedBoxLoss(studentReg: tf.Tensor, teacherReg: tf.Tensor, weights: tf.Tensor, beta: number): tf.Scalar {
  return tf.tidy(() => {
    const perCell = tf.mean(smoothL1(tf.sub(studentReg, teacherReg), beta), -1);
    return tf.div(tf.sum(tf.mul(perCell, weights)), tf.maximum(tf.sum(weights), 1e-6)) as tf.Scalar;
  });
}

/** The teacher's one-channel BEV activation map A_T [B, X, Y, 1], optionally divided by each sample's maximum. */
export function activationMap(bev: tf.Tensor, kind: 'mean-abs' | 'max-abs' | 'l2', normalize: boolean): tf.Tensor {
  return tf.tidy(() => {
    const a = kind === 'mean-abs' ? tf.mean(tf.abs(bev), -1, true) : kind === 'max-abs' ? tf.max(tf.abs(bev), -1, true) : tf.sqrt(tf.sum(tf.square(bev), -1, true));
    return normalize ? tf.div(a, tf.maximum(tf.max(a, [1, 2, 3], true), 1e-6)) : a;
  });
}

/** X-FD: mean squared error between the decoder's prediction and the teacher activation map (a constant: teacher taps carry no gradient). */
export function featureLoss(predicted: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(predicted, target))) as tf.Scalar);
}

/**
 * X-IS: per-class mask BCE over all PV cells plus `offsetWeight` × L1 of the centre offsets inside
 * instances (over max(1, instance cells)). Logits [N, h, w, K + 2]; masks [N, h, w, K]; offsets [N, h, w, 2]; inside [N, h, w, 1].
 */
export function instanceLoss(logits: tf.Tensor, masks: tf.Tensor, offsets: tf.Tensor, inside: tf.Tensor, offsetWeight: number): tf.Scalar {
  return tf.tidy(() => {
    const k = masks.shape[3]!;
    const [cls, off] = tf.split(logits, [k, 2], -1);
    const maskTerm = bceWithLogits(cls, masks);
    const offTerm = tf.div(tf.sum(tf.mul(tf.abs(tf.sub(off, offsets)), inside)), tf.maximum(tf.sum(inside), 1));
    return tf.add(maskTerm, tf.mul(offTerm, offsetWeight)) as tf.Scalar;
  });
}
