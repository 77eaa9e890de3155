import * as tf from '@tensorflow/tfjs';
import { gridSample, type OpContext } from '@bevzip/ir';
import { KEYPOINTS } from './keypoints';

// grid_sample reads neither the node nor run state; it is applied here outside a graph.
const EAGER: OpContext = { training: true, node: { name: 'unidistill.sample', op: 'grid_sample', inputs: [], outputs: [], attrs: {}, scope: '', tags: {} }, setState: () => undefined };

/** The value with no gradient: teacher tensors never train, even when the teacher runs on the tape. */
export const stopGradient = tf.customGrad(((x: tf.Tensor) => ({ value: x.clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as never) as (x: tf.Tensor) => tf.Tensor;

/**
 * Bilinear samples of a BEV map [B, H, W, C] at points [B, K, 2] (row, col; cell centres at
 * integers; zero outside the map, as grid_sample with align_corners false): [B, K, C].
 * Differentiable in the map.
 */
export function sampleBev(features: tf.Tensor, points: Float32Array, count: number): tf.Tensor3D {
  return tf.tidy(() => {
    const p = tf.tensor3d(points, [features.shape[0]!, count, 2]);
    return gridSample.forward([features, p], {}, EAGER)[0] as tf.Tensor3D;
  });
}

/** Σ over real boxes of `perBox` [B, M], over N (0 when the batch has no box). */
function meanOverBoxes(perBox: tf.Tensor, valid: Float32Array, count: number): tf.Scalar {
  return tf.tidy(() => tf.div(tf.sum(tf.mul(perBox, tf.tensor(valid, perBox.shape))), Math.max(count, 1)) as tf.Scalar);
}

/**
 * Feature distillation: (1/N) Σ_k (1/9) Σ_i (1/C) ‖s(p_ki) − t(p_ki)‖₁ over keypoint features
 * [B, M·9, C] (the student's already through its adapter) and the box mask [B, M].
 */
export function featureLoss(student: tf.Tensor3D, teacher: tf.Tensor3D, valid: Float32Array, count: number): tf.Scalar {
  return tf.tidy(() => {
    const [b, k] = student.shape;
    const perPoint = tf.mean(tf.abs(tf.sub(student, teacher)), -1);
    return meanOverBoxes(tf.mean(perPoint.reshape([b, k / KEYPOINTS, KEYPOINTS]), -1), valid, count);
  });
}

/** Per box, the 9×9 cosine-similarity matrix g_i·g_j with g = f/(‖f‖₂ + 1e-4): [B, M, 9, 9]. */
export function relationMatrices(features: tf.Tensor3D): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, k, c] = features.shape;
    const f = features.reshape([b * (k / KEYPOINTS), KEYPOINTS, c]);
    // ‖f‖ with a floor under the square: the gradient of √x is infinite at 0, and keypoints off the
    // map or on dead ReLUs sample all-zero features (the value is unchanged above 1e-6).
    const norm = tf.sqrt(tf.maximum(tf.sum(tf.square(f), -1, true), 1e-12));
    const g = tf.div(f, tf.add(norm, 1e-4));
    return tf.matMul(g, g, false, true).reshape([b, k / KEYPOINTS, KEYPOINTS, KEYPOINTS]) as tf.Tensor4D;
  });
}

/** Relation distillation: (1/N) Σ_k (1/81) Σ_ij |R^S_k[i, j] − R^T_k[i, j]|. Channel counts may differ. */
export function relationLoss(student: tf.Tensor3D, teacher: tf.Tensor3D, valid: Float32Array, count: number): tf.Scalar {
  return tf.tidy(() => meanOverBoxes(tf.mean(tf.abs(tf.sub(relationMatrices(student), relationMatrices(teacher))), [-2, -1]), valid, count));
}

const EPS = 1e-4;

/**
 * Response distillation inside the Gaussian mask G [B, H, W]: the class-max heat maps
 * h = max_c clamp(σ(z), ε, 1−ε), the teacher's logits divided by `temperature` first,
 * L_cls = Σ G|h_S − h_T| / ΣG and L_reg = Σ G·mean_c|r_S − r_T| / ΣG.
 */
export function responseLoss(
  heatS: tf.Tensor,
  heatT: tf.Tensor,
  regS: tf.Tensor,
  regT: tf.Tensor,
  mask: Float32Array,
  temperature: number,
): { cls: tf.Scalar; reg: tf.Scalar } {
  return tf.tidy(() => {
    const [b, h, w] = heatS.shape;
    const g = tf.tensor3d(mask, [b!, h!, w!]);
    const total = Math.max(mask.reduce((a, v) => a + v, 0), EPS);
    const peak = (z: tf.Tensor) => tf.max(tf.clipByValue(tf.sigmoid(z), EPS, 1 - EPS), -1);
    const cls = tf.div(tf.sum(tf.mul(g, tf.abs(tf.sub(peak(heatS), peak(tf.div(heatT, temperature)))))), total) as tf.Scalar;
    const reg = tf.div(tf.sum(tf.mul(g, tf.mean(tf.abs(tf.sub(regS, regT)), -1))), total) as tf.Scalar;
    return { cls, reg };
  });
}
