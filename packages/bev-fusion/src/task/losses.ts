import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES } from '@bevzip/ir';
import type { TaskConfig } from './config';

/** The detection and map heads' outputs (logits for heat map and map), NHWC. */
export interface HeadOutputs {
  /** [B, Hh, Wh, K] heat-map logits. */
  heatmap: tf.Tensor;
  /** [B, Hh, Wh, 10] regression. */
  reg: tf.Tensor;
  /** [B, mH, mW, K_map] map logits; absent for a detection-only model. */
  map?: tf.Tensor;
}

/** Training targets as tensors, aligned with {@link HeadOutputs}. */
export interface TargetTensors {
  heatmap: tf.Tensor;
  reg: tf.Tensor;
  regWeight: tf.Tensor;
  map?: tf.Tensor;
}

/** Weighted loss terms; `total` is their sum. */
export interface LossTerms {
  heatmap: tf.Scalar;
  reg: tf.Scalar;
  map: tf.Scalar;
  total: tf.Scalar;
}

const CLIP = 1e-4;
// Keeps log() finite at the clip bounds' rounding in float32, as the reference adds 1e-12.
const LOG_EPS = 1e-12;

/**
 * CenterPoint's GaussianFocal loss on heat-map logits: p = clip(σ(x), 1e-4, 1 − 1e-4);
 * −(1 − p)²·log p where y = 1, otherwise −(1 − y)⁴·p²·log(1 − p); summed and divided by
 * max(1, #{y = 1}).
 */
export function gaussianFocalLoss(logits: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.clipByValue(tf.sigmoid(logits), CLIP, 1 - CLIP);
    const pos = tf.cast(tf.equal(target, 1), 'float32');
    const oneMinusP = tf.sub(1, p);
    const posLoss = tf.mul(tf.mul(tf.neg(tf.log(tf.add(p, LOG_EPS))), tf.square(oneMinusP)), pos);
    const negWeight = tf.square(tf.square(tf.sub(1, target)));
    const negLoss = tf.mul(tf.mul(tf.neg(tf.log(tf.add(oneMinusP, LOG_EPS))), tf.square(p)), negWeight);
    const numPos = tf.maximum(tf.sum(pos), 1);
    return tf.div(tf.sum(tf.add(posLoss, negLoss)), numPos) as tf.Scalar;
  });
}

/**
 * L1 regression loss at the object cells: Σ |pred − target|·weight·codeWeight over cells and
 * channels, divided by max(1, #object cells) (a cell counts when its first channel's weight is
 * non-zero). `codeWeights` has one entry per channel.
 */
export function regressionL1Loss(
  pred: tf.Tensor,
  target: tf.Tensor,
  weight: tf.Tensor,
  codeWeights: readonly number[],
): tf.Scalar {
  const channels = pred.shape[pred.rank - 1];
  if (codeWeights.length !== channels) {
    throw new BevzipError(
      ERROR_CODES.SHAPE_MISMATCH,
      `regression loss: ${codeWeights.length} code weights for ${channels} channels`,
    );
  }
  return tf.tidy(() => {
    const w = tf.mul(weight, tf.tensor1d(Array.from(codeWeights)));
    const err = tf.sum(tf.mul(tf.abs(tf.sub(pred, target)), w));
    const first = tf.slice(weight, new Array(weight.rank).fill(0), [...weight.shape.slice(0, -1), 1]);
    const num = tf.maximum(tf.sum(tf.cast(tf.greater(first, 0), 'float32')), 1);
    return tf.div(err, num) as tf.Scalar;
  });
}

/**
 * Per-class sigmoid focal loss (γ, no α) on map logits [B, H, W, K]: for each class the mean over
 * B·H·W of BCE(x, y)·(1 − p_t)^γ with p_t = p·y + (1 − p)(1 − y), then summed over classes.
 */
export function sigmoidFocalLoss(logits: tf.Tensor, target: tf.Tensor, gamma = 2): tf.Scalar {
  return tf.tidy(() => {
    // BCE with logits in its overflow-free form: softplus(x) − x·y.
    const ce = tf.sub(tf.softplus(logits), tf.mul(logits, target));
    const p = tf.sigmoid(logits);
    const pt = tf.add(tf.mul(p, target), tf.mul(tf.sub(1, p), tf.sub(1, target)));
    const mod = gamma === 2 ? tf.square(tf.sub(1, pt)) : tf.pow(tf.sub(1, pt), gamma);
    const perClass = tf.mean(tf.mul(ce, mod), [0, 1, 2]);
    return tf.sum(perClass) as tf.Scalar;
  });
}

function expectShape(name: string, a: tf.Tensor, b: tf.Tensor): void {
  if (a.shape.join(',') !== b.shape.join(',')) {
    throw new BevzipError(
      ERROR_CODES.SHAPE_MISMATCH,
      `loss: prediction '${name}' has shape [${a.shape}] but its target has [${b.shape}]`,
    );
  }
}

/**
 * The `bevf-tiny` training loss: heatmap = w_h·GaussianFocal, reg = w_r·L1 (w_r = 0.25 with code
 * weights [1×8, 0.2, 0.2]), map = w_m·Σ_class focal (0 without a map head or map targets),
 * total = their sum. Every term is a differentiable tfjs scalar; call inside `tf.grads`/`tf.tidy`
 * or dispose the result.
 * @throws BevzipError (E_SHAPE_MISMATCH) naming the output whose shape differs from its target.
 */
export function taskLoss(
  pred: HeadOutputs,
  targets: TargetTensors,
  cfg: Pick<TaskConfig, 'lossWeights' | 'codeWeights'>,
): LossTerms {
  expectShape('heatmap', pred.heatmap, targets.heatmap);
  expectShape('reg', pred.reg, targets.reg);
  expectShape('reg (weight)', pred.reg, targets.regWeight);
  if (pred.map && targets.map) expectShape('map', pred.map, targets.map);
  return tf.tidy(() => {
    const w = cfg.lossWeights;
    const heatmap = tf.mul(gaussianFocalLoss(pred.heatmap, targets.heatmap), w.heatmap) as tf.Scalar;
    const reg = tf.mul(
      regressionL1Loss(pred.reg, targets.reg, targets.regWeight, cfg.codeWeights),
      w.reg,
    ) as tf.Scalar;
    const map =
      pred.map && targets.map
        ? (tf.mul(sigmoidFocalLoss(pred.map, targets.map), w.map) as tf.Scalar)
        : tf.scalar(0);
    const total = tf.addN([heatmap, reg, map]) as tf.Scalar;
    return { heatmap, reg, map, total };
  });
}
