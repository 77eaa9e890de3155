import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES } from '../errors';
import type { Graph } from '../graph';
import type { TensorTransform } from '../interpreter';
import type { ParamStore } from '../params';
import type { MaskUpdate, Masks } from './hooks';

function broadcasts(mask: readonly number[], target: readonly number[]): boolean {
  if (mask.length > target.length) return false;
  const off = target.length - mask.length;
  return mask.every((d, i) => d === 1 || target[off + i] === -1 || d === target[off + i]);
}

/**
 * The masks a run holds between steps. Updates from `mask` hooks multiply in (a product reduce), so
 * masks only ever remove; the held tensors belong to this object and are disposed when replaced.
 */
export class HeldMasks {
  private readonly params = new Map<string, tf.Tensor>();
  private readonly features = new Map<string, tf.Tensor>();

  get view(): Masks {
    return { params: this.params, features: this.features };
  }

  /** Multiplies an update in, checking that each mask broadcasts to its param or value. */
  multiply(update: MaskUpdate, graph: Graph, from: string): void {
    const infoOf = (kind: 'param' | 'feature', name: string) =>
      kind === 'param' ? graph.params.find((p) => p.name === name) : (graph.values[name] ?? graph.inputs.find((i) => i.name === name));
    const apply = (kind: 'param' | 'feature', held: Map<string, tf.Tensor>, entries: ReadonlyMap<string, tf.Tensor> | undefined) => {
      for (const [name, mask] of entries ?? []) {
        const info = infoOf(kind, name);
        if (!info) throw new BevzipError(ERROR_CODES.UNKNOWN_VALUE, `${from}: ${kind} mask for '${name}', which graph '${graph.name}' does not define`);
        if (!broadcasts(mask.shape, info.shape)) {
          throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `${from}: ${kind} mask for '${name}' has shape [${mask.shape}], which does not broadcast to [${info.shape}]`);
        }
        const prev = held.get(name);
        held.set(name, tf.keep(prev ? tf.mul(prev, mask) : mask.clone()));
        prev?.dispose();
      }
    };
    apply('param', this.params, update.params);
    apply('feature', this.features, update.features);
  }

  /** Multiplies the weights by their masks, so pruned weights are exactly zero after an update. */
  applyToWeights(params: ParamStore): void {
    tf.tidy(() => {
      for (const [name, mask] of this.params) {
        const v = params.get(name);
        v.assign(tf.mul(v, mask));
      }
    });
  }

  /** Feature masks as activation transforms. */
  featureTransforms(): Map<string, TensorTransform> {
    return new Map([...this.features].map(([name, m]) => [name, (x: tf.Tensor) => tf.mul(x, m)]));
  }

  /** Drops masks whose param or value the graph no longer has (or has with another shape); returns their names. */
  retain(graph: Graph): string[] {
    const dropped: string[] = [];
    const keep = (held: Map<string, tf.Tensor>, shapeOf: (n: string) => number[] | undefined) => {
      for (const [name, m] of held) {
        const shape = shapeOf(name);
        if (shape && broadcasts(m.shape, shape)) continue;
        m.dispose();
        held.delete(name);
        dropped.push(name);
      }
    };
    keep(this.params, (n) => graph.params.find((p) => p.name === n)?.shape);
    keep(this.features, (n) => graph.values[n]?.shape ?? graph.inputs.find((i) => i.name === n)?.shape);
    return dropped;
  }

  /** Replaces everything with copies of `masks`. */
  restore(masks: Masks): void {
    this.dispose();
    for (const [n, m] of masks.params) this.params.set(n, tf.keep(m.clone()));
    for (const [n, m] of masks.features) this.features.set(n, tf.keep(m.clone()));
  }

  dispose(): void {
    for (const m of [...this.params.values(), ...this.features.values()]) m.dispose();
    this.params.clear();
    this.features.clear();
  }
}
