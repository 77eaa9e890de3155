import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES } from '@bevzip/ir';

/** Which axis the temperature softmax normalises: over positions per channel (CWD), or over channels per position. */
export type SoftmaxAxis = 'spatial' | 'channel';

export interface VgdLossOptions {
  /** τ of φ_τ(x) = softmax(x/τ). */
  temperature: number;
  axis: SoftmaxAxis;
}

/** Elementwise t·(log t − log s) of the temperature softmaxes of [B, P, C] features along the chosen axis. */
function klTerms(teacher: tf.Tensor3D, student: tf.Tensor3D, o: VgdLossOptions): tf.Tensor3D {
  const ax = o.axis === 'spatial' ? 1 : 2;
  // tf.logSoftmax only normalises the last axis.
  const logSoftmax = (x: tf.Tensor) => {
    const z = tf.div(x, o.temperature);
    return tf.sub(z, tf.logSumExp(z, ax, true));
  };
  const logT = logSoftmax(teacher);
  const logS = logSoftmax(student);
  return tf.mul(tf.exp(logT), tf.sub(logT, logS)) as tf.Tensor3D;
}

function asPositions(x: tf.Tensor, what: string): tf.Tensor3D {
  if (x.rank !== 4) throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `view-guided distillation: ${what} must be NHWC (rank 4), got [${x.shape}]`);
  const [b, h, w, c] = x.shape;
  return x.reshape([b, h * w, c]);
}

/**
 * Per-camera image loss L_img [B, N] = τ²/(H·W·C)·KL(φ_τ(F^T) ‖ φ_τ(F^S)) of image-neck features
 * [B·N, H, W, C] (QD-BEV Eq. 3, kept per sample).
 */
export function imageDistillLoss(teacher: tf.Tensor, student: tf.Tensor, cameras: number, o: VgdLossOptions): tf.Tensor2D {
  return tf.tidy(() => {
    const t = asPositions(teacher, 'the teacher image feature');
    const [bn, p, c] = t.shape;
    if (bn % cameras !== 0) throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `view-guided distillation: image feature batch ${bn} is not a multiple of ${cameras} cameras`);
    const kl = tf.sum(klTerms(t, asPositions(student, 'the student image feature'), o), [1, 2]);
    return tf.mul(kl, (o.temperature * o.temperature) / (p * c)).reshape([bn / cameras, cameras]) as tf.Tensor2D;
  });
}

/** Per-cell BEV loss L_bev [B, H·W] = τ²/C·KL at every BEV cell (QD-BEV Eq. 4) of features [B, H, W, C]. */
export function bevDistillLoss(teacher: tf.Tensor, student: tf.Tensor, o: VgdLossOptions): tf.Tensor2D {
  return tf.tidy(() => {
    const t = asPositions(teacher, 'the teacher BEV feature');
    const c = t.shape[2];
    return tf.mul(tf.sum(klTerms(t, asPositions(student, 'the student BEV feature'), o), 2), (o.temperature * o.temperature) / c) as tf.Tensor2D;
  });
}

/**
 * The VGD objective (QD-BEV Eq. 5–6): L = (1/B)·Σ_b Σ_n Σ_p L_img[b, n]·M̄[n, p]·L_bev[b, p], where the
 * view mask M̄ [N, H·W] spreads each camera's image loss over the BEV cells it sees. A per-sample
 * mask [B, N, H·W] uses M̄[b] for sample b (frames seen by differently calibrated rigs).
 */
export function vgdLoss(
  features: { teacherImg: tf.Tensor; studentImg: tf.Tensor; teacherBev: tf.Tensor; studentBev: tf.Tensor },
  viewMask: tf.Tensor2D | tf.Tensor3D,
  o: VgdLossOptions,
): tf.Scalar {
  return tf.tidy(() => {
    const [n, cells] = viewMask.shape.slice(-2);
    const img = imageDistillLoss(features.teacherImg, features.studentImg, n, o);
    const bev = bevDistillLoss(features.teacherBev, features.studentBev, o);
    if (bev.shape[1] !== cells || bev.shape[0] !== img.shape[0]) {
      throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `view-guided distillation: BEV loss [${bev.shape}] does not match ${img.shape[0]} samples × the view mask's ${cells} cells`);
    }
    if (viewMask.rank === 3 && viewMask.shape[0] !== img.shape[0]) {
      throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `view-guided distillation: the view mask has ${viewMask.shape[0]} samples, the features ${img.shape[0]}`);
    }
    // Σ_n L_img[b, n]·M̄[(b,) n, p]: the image loss each cell receives.
    const spread = viewMask.rank === 3 ? tf.sum(tf.mul(img.expandDims(2), viewMask), 1) : tf.matMul(img, viewMask as tf.Tensor2D);
    return tf.div(tf.sum(tf.mul(spread, bev)), img.shape[0]) as tf.Scalar;
  });
}
