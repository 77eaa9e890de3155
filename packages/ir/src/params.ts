import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES } from './errors';
import { sizeOf, type Graph, type ParamDef } from './graph';
import { Rng } from './rng';

/** Host-side initial values of a param, seeded by (seed, param name) so init does not depend on order. */
export function initialValues(p: ParamDef, seed: number): Float32Array | Int32Array {
  const n = sizeOf(p.shape);
  const out = p.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  const rng = Rng.derive(seed, `init:${p.name}`);
  const fanIn = p.shape.length > 1 ? sizeOf(p.shape.slice(0, -1)) : p.shape[0];
  const fanOut = p.shape[p.shape.length - 1];
  const init = p.init;
  switch (init.kind) {
    case 'zeros':
      break;
    case 'ones':
      out.fill(1);
      break;
    case 'constant':
      out.fill(init.value);
      break;
    case 'normal':
      for (let i = 0; i < n; i++) out[i] = (init.mean ?? 0) + init.std * rng.normal();
      break;
    case 'uniform':
      for (let i = 0; i < n; i++) out[i] = init.min + (init.max - init.min) * rng.next();
      break;
    case 'heNormal': {
      const std = Math.sqrt(2 / Math.max(1, fanIn));
      for (let i = 0; i < n; i++) out[i] = std * rng.normal();
      break;
    }
    case 'glorotUniform': {
      const limit = Math.sqrt(6 / Math.max(1, fanIn + fanOut));
      for (let i = 0; i < n; i++) out[i] = limit * (2 * rng.next() - 1);
      break;
    }
  }
  return out;
}

/**
 * The weights of one graph: a tf.Variable per param, keyed by param name. Trainable flags follow the
 * graph; state params (batch-norm running statistics) are variables the forward pass updates.
 */
export class ParamStore {
  private readonly vars = new Map<string, tf.Variable>();

  /** Fresh weights from the graph's initializers. */
  static init(graph: Graph, seed: number): ParamStore {
    const store = new ParamStore();
    for (const p of graph.params) {
      const value = tf.tensor(initialValues(p, seed), p.shape, p.dtype);
      store.set(p.name, value, p.trainable);
      value.dispose();
    }
    return store;
  }

  /** Adopts (copies) values; tensors passed in remain the caller's. */
  static fromTensors(graph: Graph, values: ReadonlyMap<string, tf.Tensor>): ParamStore {
    const store = new ParamStore();
    for (const p of graph.params) {
      const v = values.get(p.name);
      if (!v) throw new BevzipError(ERROR_CODES.WEIGHTS_FILE, `no value given for param '${p.name}'`);
      if (v.shape.join(',') !== p.shape.join(',')) {
        throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `param '${p.name}': value shape [${v.shape}] differs from declared [${p.shape}]`);
      }
      store.set(p.name, v, p.trainable);
    }
    return store;
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new BevzipError(ERROR_CODES.UNKNOWN_VALUE, `no param named '${name}'`);
    return v;
  }

  has(name: string): boolean {
    return this.vars.has(name);
  }

  names(): string[] {
    return [...this.vars.keys()];
  }

  /** Sets (or creates) a param's value, copying `value`. */
  set(name: string, value: tf.Tensor, trainable?: boolean): void {
    const existing = this.vars.get(name);
    if (existing === value) return;
    if (existing && existing.shape.join(',') === value.shape.join(',') && (trainable === undefined || existing.trainable === trainable)) {
      existing.assign(value);
      return;
    }
    existing?.dispose();
    // The variable takes a reference to the copy's data; the copy's own handle is released.
    const copy = value.clone();
    this.vars.set(name, tf.variable(copy, trainable ?? existing?.trainable ?? true, undefined, value.dtype));
    copy.dispose();
  }

  /** Drops params the graph no longer declares (after a pass removed them). */
  retain(graph: Graph): void {
    const keep = new Set(graph.params.map((p) => p.name));
    for (const [name, v] of this.vars) {
      if (!keep.has(name)) {
        v.dispose();
        this.vars.delete(name);
      }
    }
  }

  trainableVariables(): tf.Variable[] {
    return [...this.vars.values()].filter((v) => v.trainable);
  }

  /** Deep copy with its own variables. */
  clone(): ParamStore {
    const copy = new ParamStore();
    for (const [name, v] of this.vars) copy.set(name, v, v.trainable);
    return copy;
  }

  /** Number of scalar weights (all params, or those passing `filter`). */
  count(filter: (name: string) => boolean = () => true): number {
    let n = 0;
    for (const [name, v] of this.vars) if (filter(name)) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
