import * as tf from '@tensorflow/tfjs';
import type { Graph, ParamStore, Plugin, QuantizeSpec, StepContext, TensorTransform } from '@bevzip/ir';
import type { BitWidth } from './stats';

type QuantizeHandler = (ctx: StepContext<unknown>) => QuantizeSpec | void;

/** A transform may say its bit-width as a numeric `bits` property (a convention, not required). */
const declaredBits = (t: TensorTransform): number | undefined => {
  const b = (t as { bits?: unknown }).bits;
  return typeof b === 'number' && b > 0 ? b : undefined;
};

/**
 * ⌈log2(distinct values)⌉ of a quantized weight, the largest over its output channels (last axis):
 * the bits an index into the levels it actually uses needs.
 */
export function effectiveBits(q: Float32Array | Int32Array | Uint8Array, shape: readonly number[]): number {
  const channels = shape.length > 1 ? shape[shape.length - 1] : 1;
  let most = 1;
  for (let c = 0; c < channels; c++) {
    const seen = new Set<number>();
    for (let i = c; i < q.length; i += channels) seen.add(q[i]);
    most = Math.max(most, seen.size);
  }
  return Math.max(1, Math.ceil(Math.log2(most)));
}

/** The quantizers' final word: weight and activation transforms by name. */
export interface FinalQuantizers {
  weights: Map<string, TensorTransform>;
  activations: Map<string, TensorTransform>;
}

/**
 * Keeps the `quantize` handler each plugin builds (through wrapped plugins, so no plugin needs to
 * know), to ask them after the run which transforms the final model carries — also for quantizers
 * whose only stage had no training steps (PTQ), where the runtime never calls `quantize`.
 */
export class QuantizerProbe {
  private readonly handlers: { plugin: string; options: unknown; handler: QuantizeHandler }[] = [];

  /** The plugin with its `quantize` handler kept. */
  wrap(plugin: Plugin): Plugin {
    const def = plugin.definition;
    const hooks = (options: unknown) => {
      const h = def.hooks(options as never);
      const q = h.quantize;
      if (q) this.handlers.push({ plugin: plugin.name, options, handler: (typeof q === 'function' ? q : q.handler) as QuantizeHandler });
      return h;
    };
    return { ...plugin, definition: { ...def, hooks } };
  }

  /**
   * Calls every kept handler with the context of the last stage its plugin was active in (`contextOf`
   * returns undefined to leave a plugin out); the first plugin, in registration order, to claim a
   * tensor wins it, as in a training step.
   */
  finalTransforms(contextOf: (plugin: string, options: unknown) => StepContext<unknown> | undefined): FinalQuantizers {
    const out: FinalQuantizers = { weights: new Map(), activations: new Map() };
    for (const { plugin, options, handler } of this.handlers) {
      const ctx = contextOf(plugin, options);
      const spec = ctx && handler(ctx);
      if (!spec) continue;
      for (const [n, t] of Object.entries(spec.weights ?? {})) if (!out.weights.has(n)) out.weights.set(n, t);
      for (const [n, t] of Object.entries(spec.activations ?? {})) if (!out.activations.has(n)) out.activations.set(n, t);
    }
    return out;
  }
}

/** Bit-widths of final quantizers: declared by the transform, else measured on the weight (activations only when declared). */
export function quantizedBitWidths(q: FinalQuantizers, graph: Graph, params: ParamStore): BitWidth[] {
  const out: BitWidth[] = [];
  for (const p of graph.params) {
    const t = q.weights.get(p.name);
    if (!t || !params.has(p.name)) continue;
    const bits =
      declaredBits(t) ??
      tf.tidy(() => {
        const w = t(params.get(p.name));
        return effectiveBits(w.dataSync() as Float32Array, w.shape);
      });
    out.push({ name: p.name, kind: 'weight', bits });
  }
  for (const [name, t] of q.activations) {
    const bits = declaredBits(t);
    if (bits !== undefined) out.push({ name, kind: 'activation', bits });
  }
  return out;
}
