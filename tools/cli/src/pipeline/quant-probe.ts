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

/**
 * Watches the `quantize` hooks of a run (through wrapped plugins, so no plugin needs to know) and
 * reports the bit-width of every weight and activation quantized in the last step that touched it.
 * First claim wins within a step, as in the runtime.
 */
export class QuantizerProbe {
  private readonly weights = new Map<string, TensorTransform>();
  private readonly activations = new Map<string, TensorTransform>();
  private step = '';
  private claimed = new Set<string>();

  /** The plugin with its `quantize` handler observed. */
  wrap(plugin: Plugin): Plugin {
    const def = plugin.definition;
    const hooks = (options: unknown) => {
      const h = def.hooks(options as never);
      const q = h.quantize;
      if (!q) return h;
      const handler = (typeof q === 'function' ? q : q.handler) as QuantizeHandler;
      const observed: QuantizeHandler = (ctx) => {
        const spec = handler(ctx);
        if (spec) this.record(spec, `${ctx.stage.name}\u0000${ctx.step}`);
        return spec;
      };
      return { ...h, quantize: typeof q === 'function' ? observed : { ...q, handler: observed } };
    };
    return { ...plugin, definition: { ...def, hooks } };
  }

  private record(spec: QuantizeSpec, step: string): void {
    if (step !== this.step) {
      this.step = step;
      this.claimed = new Set();
    }
    const claim = (kind: string, into: Map<string, TensorTransform>, entries: Record<string, TensorTransform> | undefined) => {
      for (const [name, t] of Object.entries(entries ?? {})) {
        if (this.claimed.has(kind + name)) continue;
        this.claimed.add(kind + name);
        into.set(name, t);
      }
    };
    claim('w:', this.weights, spec.weights);
    claim('a:', this.activations, spec.activations);
  }

  /** Bit-widths: declared by the transform, else measured on the weight (activations only when declared). */
  bitWidths(graph: Graph, params: ParamStore): BitWidth[] {
    const out: BitWidth[] = [];
    for (const p of graph.params) {
      const t = this.weights.get(p.name);
      if (!t || !params.has(p.name)) continue;
      const bits = declaredBits(t) ?? tf.tidy(() => {
        const q = t(params.get(p.name));
        return effectiveBits(q.dataSync() as Float32Array, q.shape);
      });
      out.push({ name: p.name, kind: 'weight', bits });
    }
    for (const [name, t] of this.activations) {
      const bits = declaredBits(t);
      if (bits !== undefined) out.push({ name, kind: 'activation', bits });
    }
    return out;
  }
}
