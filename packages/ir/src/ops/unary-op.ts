import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { OnnxNodeEmitter } from '../onnx/emitter';
import type { TensorInfo } from '../graph';
import { defineOp, noMacs, type OpContext, type OpDef, type SignRule } from './op';

/** The parts that differ between element-wise single-input ops. */
export interface UnaryOpSpec<A> {
  name: string;
  attrs?: z.ZodType<A>;
  /** The element-wise function in tfjs-core ops (`ctx` for the few that read the run, e.g. its progress). */
  fn(x: tf.Tensor, attrs: A, ctx: OpContext): tf.Tensor;
  /** Emits ONNX nodes computing `y` from `x`. */
  onnx(emit: OnnxNodeEmitter, x: string, y: string, attrs: A): void;
  /** What is known of the output's sign (see {@link SignRule}). */
  sign: SignRule;
  /** Multiplies per evaluation; default none (activations). */
  macs?: (x: TensorInfo) => number;
}

/**
 * Defines an element-wise op with one float input whose output has the input's shape (activations).
 * Channels pass through one to one, so structured channel removal sees through it.
 *
 * @example
 * const neg = defineUnaryOp({ name: 'neg', sign: 'any', fn: (x) => tf.neg(x), onnx: (e, x, y) => e.add('Neg', [x], [y]) });
 */
export function defineUnaryOp<A = Record<string, never>>(spec: UnaryOpSpec<A>): OpDef<A> {
  return defineOp<A>({
    name: spec.name,
    inputs: ['x'],
    attrs: spec.attrs ?? (z.strictObject({}) as unknown as z.ZodType<A>),
    infer([x]) {
      if (!x) throw new Error(`${spec.name} needs an input`);
      if (x.dtype !== 'float32') throw new Error(`${spec.name} needs a float32 input, got ${x.dtype}`);
      return [{ shape: [...x.shape], dtype: x.dtype }];
    },
    forward([x], a, ctx) {
      return [spec.fn(x!, a, ctx)];
    },
    onnx(emit, a) {
      spec.onnx(emit, emit.input(0), emit.output(0), a);
    },
    channels: { kind: 'through' },
    sign: spec.sign,
    macs: spec.macs ? ([x]) => spec.macs!(x!) : noMacs,
    differentiable: true,
    weight: null,
  });
}
