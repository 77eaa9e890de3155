import * as tf from '@tensorflow/tfjs';
import type { TargetTensors } from '../task/losses';
import { hostTensorToTf, type HostBatch } from '../task/host-batch';

/**
 * A batch of the stream as tensors: graph feeds and loss targets (the runtime `Batch` shape), with
 * the step and sample tokens it was made for. The consumer owns the tensors; release them with
 * {@link disposeStreamBatch}.
 */
export interface StreamBatch {
  step: number;
  feeds: Record<string, tf.Tensor>;
  targets: TargetTensors;
  sampleTokens: string[];
  numObjects: number[];
}

/** Uploads a host batch to the current tfjs backend. */
export function hostBatchToTensors(batch: HostBatch): StreamBatch {
  const feeds = Object.fromEntries(Object.entries(batch.feeds).map(([k, v]) => [k, hostTensorToTf(v)]));
  const { heatmap, reg, regWeight, map } = batch.targets;
  const targets: TargetTensors = { heatmap: hostTensorToTf(heatmap!), reg: hostTensorToTf(reg!), regWeight: hostTensorToTf(regWeight!) };
  if (map) targets.map = hostTensorToTf(map);
  return { step: batch.step, feeds, targets, sampleTokens: batch.sampleTokens, numObjects: batch.numObjects };
}

/** Releases every tensor of a stream batch. */
export function disposeStreamBatch(batch: Pick<StreamBatch, 'feeds' | 'targets'>): void {
  tf.dispose(Object.values(batch.feeds));
  tf.dispose(Object.values(batch.targets) as tf.Tensor[]);
}
