import * as tf from '@tensorflow/tfjs';
import {
  createOptimizer,
  type Batch,
  type RunOptions,
  type ScoreContext,
  type TensorTransform,
} from '@bevzip/ir';

/** The part of the runtime's score context the criteria use. */
export type Scorer = Pick<
  ScoreContext<unknown>,
  'graph' | 'params' | 'batch' | 'gradients' | 'taskLoss' | 'masks' | 'warn'
>;

export interface GradientOptions {
  /** Batch norm with batch statistics. */
  training: boolean;
  /** Params multiplied by zero in the forward (modality masking). */
  zeroed?: readonly string[];
  /** Extra multiplicative param masks (iterative criteria). */
  masks?: ReadonlyMap<string, tf.Tensor>;
  weightTransforms?: ReadonlyMap<string, TensorTransform>;
}

/** Releases a batch's feeds and any tensors among its targets. */
export function disposeBatch(batch: Batch): void {
  for (const t of Object.values(batch.feeds)) t.dispose();
  const targets = batch.targets;
  if (targets && typeof targets === 'object')
    for (const v of Object.values(targets)) if (v instanceof tf.Tensor) v.dispose();
}

/** Run options for a scoring pass: the held masks, `zeroed` params times zero, `extra` masks multiplied in. */
function runOptions(ctx: Scorer, o: GradientOptions): { options: RunOptions; created: tf.Tensor[] } {
  const created: tf.Tensor[] = [];
  const masks = new Map<string, tf.Tensor>(ctx.masks.params);
  if (o.zeroed?.length) {
    const zero = tf.scalar(0);
    created.push(zero);
    for (const name of o.zeroed) masks.set(name, zero);
  }
  for (const [name, m] of o.masks ?? []) {
    const held = masks.get(name);
    const merged = held ? tf.mul(held, m) : m;
    if (held) created.push(merged);
    masks.set(name, merged);
  }
  return { options: { training: o.training, masks, weightTransforms: o.weightTransforms }, created };
}

/**
 * Mean over `batches` (stage batch indices) of ∂loss/∂θ for the named params, as host arrays.
 * `loss` defaults to the model's task loss; weights are not changed.
 */
export async function meanGradients(
  ctx: Scorer,
  names: readonly string[],
  batches: readonly number[],
  o: GradientOptions,
  loss?: (outputs: Record<string, tf.Tensor>, batch: Batch) => tf.Scalar,
  feedsOf?: (batch: Batch) => Record<string, tf.Tensor>,
): Promise<Map<string, Float32Array>> {
  const sums = new Map(names.map((n) => [n, new Float64Array(ctx.params.get(n).size)]));
  const { options, created } = runOptions(ctx, o);
  const lossOf = loss ?? ctx.taskLoss;
  try {
    for (const index of batches) {
      const batch = await ctx.batch(index);
      try {
        const { grads } = ctx.gradients(
          feedsOf ? feedsOf(batch) : batch.feeds,
          (res) => lossOf(res.outputs, batch),
          options,
        );
        for (const [name, g] of grads) {
          const sum = sums.get(name);
          if (sum) g.dataSync().forEach((v, i) => (sum[i] += v));
          g.dispose();
        }
      } finally {
        disposeBatch(batch);
      }
    }
  } finally {
    created.forEach((t) => t.dispose());
  }
  return new Map([...sums].map(([n, s]) => [n, Float32Array.from(s, (v) => v / batches.length)]));
}

/** Host copies of the named params' current values. */
export function hostValues(ctx: Pick<Scorer, 'params'>, names: readonly string[]): Map<string, Float32Array> {
  return new Map(names.map((n) => [n, Float32Array.from(ctx.params.get(n).dataSync() as Float32Array)]));
}

/**
 * Redundancy reactivation: trains the model with `zeroed` params masked for one step per batch
 * index, in place. The caller snapshots and restores the weights around it.
 */
export async function reactivate(
  ctx: Scorer,
  zeroed: readonly string[],
  batches: readonly number[],
  o: { lr: number; kind: 'sgd' | 'adam'; training: boolean; masks?: ReadonlyMap<string, tf.Tensor> },
): Promise<void> {
  const optimizer = createOptimizer({ kind: o.kind, lr: o.lr }, ctx.graph);
  const { options, created } = runOptions(ctx, { training: o.training, zeroed, masks: o.masks });
  try {
    for (const index of batches) {
      const batch = await ctx.batch(index);
      try {
        const { grads } = ctx.gradients(batch.feeds, (res) => ctx.taskLoss(res.outputs, batch), options);
        optimizer.step(grads, ctx.params, o.lr);
        for (const g of grads.values()) g.dispose();
      } finally {
        disposeBatch(batch);
      }
    }
  } finally {
    created.forEach((t) => t.dispose());
    optimizer.dispose();
  }
}

/** Keeps copies of every trainable param; `restore()` puts them back and releases the copies. */
export function snapshot(ctx: Pick<Scorer, 'graph' | 'params'>): { restore(): void } {
  const saved = new Map(
    ctx.graph.params.filter((p) => p.trainable).map((p) => [p.name, tf.keep(ctx.params.get(p.name).clone())]),
  );
  return {
    restore() {
      for (const [name, t] of saved) {
        ctx.params.get(name).assign(t);
        t.dispose();
      }
      saved.clear();
    },
  };
}
