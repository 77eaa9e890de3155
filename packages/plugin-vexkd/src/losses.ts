import * as tf from '@tensorflow/tfjs';

/**
 * Spatial attention map of attention transfer: a(X) = vec(Σ_c |X_c|^p) / ‖vec(Σ_c |X_c|^p)‖₂ per
 * sample, [B, H·W]. Summing over channels is what lets a student of another width be compared to
 * the teacher without an adapter.
 */
export function attentionMap(x: tf.Tensor, p = 2, eps = 1e-12): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, h, w] = x.shape;
    // p = 2 through square keeps the gradient smooth at 0 (|x|^p has a kink there).
    const energy = tf.sum(p === 2 ? tf.square(x) : tf.pow(tf.abs(x), p), -1).reshape([b, h! * w!]);
    return tf.div(energy, tf.sqrt(tf.add(tf.sum(tf.square(energy), -1, true), eps))) as tf.Tensor2D;
  });
}

/** Brings a student map to the teacher's spatial size (bilinear, differentiable); unchanged when equal. */
export function matchSize(x: tf.Tensor, like: readonly number[]): tf.Tensor4D {
  const [h, w] = [like[1], like[2]];
  return (x.shape[1] === h && x.shape[2] === w ? x : tf.image.resizeBilinear(x as tf.Tensor4D, [h, w])) as tf.Tensor4D;
}

/**
 * Masked attention-transfer distillation at one level:
 *   L = Σ_t w_t · mean_b ‖a(M_t ⊙ F_S) − a(M_t ⊙ sg(F_T))‖²₂
 * `student` [B, H, W, C_S] (resized to the teacher's H × W), `teacher` [B, H, W, C_T], `masks`
 * [B, H, W, T], `weights` [T]. A single all-ones mask of weight 1 is the
 * full-map baseline.
 */
export function maskedAtLoss(student: tf.Tensor, teacher: tf.Tensor, masks: tf.Tensor, weights: tf.Tensor1D, p = 2): tf.Scalar {
  return tf.tidy(() => {
    const s = matchSize(student, teacher.shape);
    // Teacher features, masks and weights never depend on the student's weights (the teacher's come
    // from its own frozen run, the masks from the frozen generators), so only the student gets gradients.
    const [t, m, w] = [teacher, masks, weights];
    const count = m.shape[3]!;
    const terms: tf.Scalar[] = [];
    for (let k = 0; k < count; k++) {
      const mk = tf.slice(m, [0, 0, 0, k], [-1, -1, -1, 1]);
      const diff = tf.sub(attentionMap(tf.mul(s, mk), p), attentionMap(tf.mul(t, mk), p));
      const perSample = tf.sum(tf.square(diff), -1);
      terms.push(tf.mul(tf.mean(perSample), tf.slice(w, [k], [1]).reshape([])) as tf.Scalar);
    }
    return tf.addN(terms) as tf.Scalar;
  });
}

/**
 * Mean Dice coefficient over the pairs of different masks, 2Σ(a·b) / (Σa + Σb) per sample: the
 * diversity term of mask training, which keeps a task's masks from collapsing onto one region.
 * `masks` [B, H, W, T]; 0 when T = 1.
 */
export function diceDiversity(masks: tf.Tensor, eps = 1e-6): tf.Scalar {
  return tf.tidy(() => {
    const count = masks.shape[3]!;
    if (count < 2) return tf.scalar(0);
    const flat = tf.transpose(masks.reshape([masks.shape[0]!, -1, count]), [0, 2, 1]); // [B, T, HW]
    const inter = tf.matMul(flat, flat, false, true); // [B, T, T]
    const area = tf.sum(flat, -1); // [B, T]
    const dice = tf.div(tf.mul(inter, 2), tf.add(tf.add(tf.expandDims(area, 2), tf.expandDims(area, 1)), eps));
    const offDiagonal = tf.sub(tf.ones([count, count]), tf.eye(count));
    return tf.div(tf.sum(tf.mul(dice, offDiagonal)), masks.shape[0]! * count * (count - 1)) as tf.Scalar;
  });
}

/** F̃ = Σ_k π_k · M_k ⊙ F: the teacher feature the mask-training stage feeds to the teacher's head. */
export function maskedSum(feature: tf.Tensor, masks: tf.Tensor, weights: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    // Σ_k π_k M_k first: one [B, H, W, 1] map multiplies the C channels.
    const combined = tf.sum(tf.mul(masks, weights.reshape([1, 1, 1, -1])), -1, true);
    return tf.mul(feature, combined) as tf.Tensor4D;
  });
}
