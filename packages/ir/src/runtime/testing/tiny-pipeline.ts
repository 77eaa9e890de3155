import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../../builder';
import type { Graph } from '../../graph';
import { ParamStore } from '../../params';
import { Rng } from '../../rng';
import type { Batch, DataSource } from '../data-source';
import { shuffledIndex } from '../data-source';

/** conv → batchnorm → relu → conv: small enough for many pipeline runs in a test. */
export function tinyConvGraph(): Graph {
  const b = new GraphBuilder('tiny');
  const x = b.input('image', [-1, 6, 6, 2]);
  b.input('target', [-1, 6, 6, 2]);
  const feature = b.scoped('camera.backbone', { modality: 'camera', stage: 'backbone' }, () => {
    const c = b.op('conv2d', [x, b.param('conv1.weight', [3, 3, 2, 4]), b.param('conv1.bias', [4], { role: 'bias' })], {}, { name: 'conv1' });
    const stats = [b.param('bn.gamma', [4], { role: 'norm', init: { kind: 'ones' } }), b.param('bn.beta', [4], { role: 'norm' })];
    const running = [b.param('bn.mean', [4], { role: 'state' }), b.param('bn.var', [4], { role: 'state', init: { kind: 'ones' } })];
    return b.op('relu', [b.op('batchnorm', [c, ...stats, ...running], {}, { name: 'bn' })], {}, { name: 'feature' });
  });
  const y = b.scoped('head', { modality: 'fusion', stage: 'head' }, () =>
    b.op('conv2d', [feature, b.param('conv2.weight', [3, 3, 4, 2]), b.param('conv2.bias', [2], { role: 'bias' })], {}, { name: 'conv2' }),
  );
  b.output(y);
  return b.build();
}

/** The tapped backbone feature of {@link tinyConvGraph} (after relu). */
export const TINY_FEATURE = 'camera.backbone.feature';
/** The output of {@link tinyConvGraph}. */
export const TINY_OUTPUT = 'head.conv2';

/** A deterministic data source over `size` samples, shuffled per epoch from the run seed. */
export function tinyData(size = 8, crashAt?: number): DataSource {
  return {
    batch(step, { seed }): Batch {
      if (step === crashAt) throw new Error(`simulated crash at step ${step}`);
      const idx = shuffledIndex(step, size, seed);
      const rng = Rng.derive(seed, `sample:${idx}`);
      const draw = () => tf.tensor(Float32Array.from({ length: 2 * 6 * 6 * 2 }, () => rng.next() * 2 - 1), [2, 6, 6, 2]);
      return { feeds: { image: draw(), target: draw() } };
    },
  };
}

/** Mean squared error between the output and the `target` feed. */
export function mseTaskLoss(outputs: Record<string, tf.Tensor>, batch: Batch): tf.Scalar {
  return tf.mean(tf.squaredDifference(outputs[TINY_OUTPUT], batch.feeds.target)) as tf.Scalar;
}

/** A frozen teacher for the tiny graph: the same graph with weights from another seed. */
export function tinyTeacher(graph: Graph, seed: number): { graph: Graph; params: ParamStore } {
  return { graph, params: ParamStore.init(graph, seed + 1000) };
}
