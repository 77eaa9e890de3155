import * as tf from '@tensorflow/tfjs';
import type { TargetTensors } from './losses';

/** Logit whose sigmoid is `p`, with p clamped to [1e-6, 1 − 1e-6] so it stays finite. */
export function logitOf(p: number): number {
  const q = Math.min(Math.max(p, 1e-6), 1 - 1e-6);
  return Math.log(q / (1 - q));
}

/**
 * Model outputs that reproduce a batch's targets exactly: heat-map and map logits whose sigmoid is
 * the target, and the regression target itself. Decoding them gives back the encoded boxes, so
 * they bound what the evaluation pipeline can report and check it end to end. Caller owns the
 * returned tensors.
 */
export function oracleOutputs(targets: TargetTensors): {
  heatmap: tf.Tensor;
  reg: tf.Tensor;
  map?: tf.Tensor;
} {
  const toLogits = (t: tf.Tensor): tf.Tensor => tf.tensor(Float32Array.from(t.dataSync(), logitOf), t.shape);
  return {
    heatmap: toLogits(targets.heatmap),
    reg: targets.reg.clone(),
    ...(targets.map ? { map: toLogits(targets.map) } : {}),
  };
}
