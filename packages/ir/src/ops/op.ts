import type * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import type { NodeDef, TensorInfo } from '../graph';
import type { OnnxNodeEmitter } from '../onnx/emitter';

/** What an op's forward may see of the run besides its inputs. */
export interface OpContext {
  training: boolean;
  node: NodeDef;
  /** The stage's training progress in [0, 1] when the caller gave one (`RunOptions.progress`). */
  progress?: number;
  /**
   * Replace the value of a state param the node reads (input `inputIndex`), e.g. batch-norm running
   * statistics in training mode. Applied by the caller after the step, never during the forward.
   */
  setState(inputIndex: number, value: tf.Tensor): void;
}

/**
 * How an op treats the channel (last) axis, for structured channel removal:
 * - `produce`: makes a new channel space from a weight's last axis (conv2d with groups 1, dense);
 *   the weight's `inAxis` consumes its input's channels.
 * - `through`: output channels are input 0's channels, one to one (activations, batch norm, resize,
 *   pooling, BEV pooling and scatter); the `perChannelInputs` params (batch norm's) follow them.
 * - `unify`: element-wise binary ops whose inputs must share channel indexing.
 * - `concat`: concatenation along `axis`; a concat along the channel axis joins its inputs' channels.
 * - `opaque`: channels reaching the op are all kept.
 */
export type ChannelRule =
  | { kind: 'produce'; weightInput: number; inAxis: number; biasInput?: number }
  | { kind: 'through'; perChannelInputs?: number[] }
  | { kind: 'unify' }
  | { kind: 'concat'; axis: number }
  | { kind: 'opaque' };

/**
 * What an op's output sign is known to be: `nonNegative` always ≥ 0 (ReLU, sigmoid, softmax);
 * `preserves` ≥ 0 whenever every input is ≥ 0 (ops that move, pick, pool or add values); `any` no
 * guarantee is claimed.
 */
export type SignRule = 'nonNegative' | 'preserves' | 'any';

/** The learned kernel of a layer: its input slot and the output-channel axis in the IR layout. */
export interface WeightSlot {
  readonly input: number;
  readonly outAxis: number;
}

/**
 * Attribute types per op name, as a `GraphBuilder.op` call writes them (defaults optional). Each op
 * file adds its entry by declaration merging; an op registered from outside can do the same:
 *
 * @example
 * declare module '@bevzip/ir' { interface OpAttrs { my_op: { gain: number } } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface OpAttrs {}

/**
 * One operator, complete in one file: attribute schema, shape inference, forward in tfjs-core ops (so
 * autodiff works on every backend; a `tf.customGrad` where tfjs lacks or mis-implements a gradient),
 * its ONNX mapping, and the facts passes and plugins read instead of keeping tables of op names
 * (channel rule, sign, MACs, differentiability, weight slot). Every field is required, so an op
 * given to `registerOp` states them all.
 */
export interface OpDef<A = any> {
  readonly name: string;
  /** Input slot names in order; a trailing `?` marks an optional slot, a leading `...` a variadic tail. */
  readonly inputs: readonly string[];
  /** Zod schema of the attributes; parse fills defaults. */
  readonly attrs: z.ZodType<A>;
  /** Output shapes and dtypes from input shapes (-1 = unknown dimension). Throws a plain Error on mismatch. */
  infer(inputs: readonly (TensorInfo | undefined)[], attrs: A): TensorInfo[];
  forward(inputs: readonly (tf.Tensor | undefined)[], attrs: A, ctx: OpContext): tf.Tensor[];
  /** Emits the ONNX nodes computing this op. */
  onnx(emit: OnnxNodeEmitter, attrs: A): void;
  /** How structured channel removal propagates through the op; a function when attributes decide (grouped conv). */
  readonly channels: ChannelRule | ((attrs: A) => ChannelRule);
  /** What is known of the output's sign (unsigned activation ranges in quantization). */
  readonly sign: SignRule;
  /**
   * Multiply-accumulates of one evaluation from concrete shapes: products (convolutions, dense,
   * matmul, attention) count one per multiply-add, element-wise `mul`/`div`/`scale` one per output,
   * `bev_pool` one per pooled element; data movement, comparisons, activations, normalisations,
   * resizes and other reductions count 0.
   */
  macs(inputs: readonly (TensorInfo | undefined)[], outputs: readonly TensorInfo[], attrs: A): number;
  /** False when no gradient flows through the op to its float inputs (index lookups, comparisons). */
  readonly differentiable: boolean;
  /** The layer's learned kernel (per-channel quantization, weighted-layer cost), or null. */
  readonly weight: WeightSlot | null;
}

/** The metadata fields every op declares (checked by `registerOp` and the op meta-test). */
export const OP_METADATA_FIELDS = ['channels', 'sign', 'macs', 'differentiable', 'weight'] as const;

/** An op's channel rule for given (parsed) attributes. */
export function resolveChannelRule<A>(op: OpDef<A>, attrs: A): ChannelRule {
  return typeof op.channels === 'function' ? op.channels(attrs) : op.channels;
}

/** MACs of ops that do none (data movement, activations, normalisations). */
export const noMacs = (): number => 0;

export function defineOp<A>(def: OpDef<A>): OpDef<A> {
  return def;
}

/** Known dimension or -1; combines two dims that must agree. */
export function mergeDim(a: number, b: number, what: string): number {
  if (a === -1) return b;
  if (b === -1 || a === b) return a;
  throw new Error(`${what}: ${a} vs ${b}`);
}

/** Numpy-style broadcast of two shapes with unknown (-1) dims. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else out.push(mergeDim(da, db, `cannot broadcast [${a}] with [${b}]`));
  }
  return out;
}

/** Normalises a scalar-or-pair attribute to a pair. */
export function pair(v: number | readonly number[]): [number, number] {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/** Output size of a window op along one axis, -1 if the input size is unknown. */
export function windowOut(size: number, k: number, stride: number, padTotal: number, dilation = 1): number {
  if (size === -1) return -1;
  return Math.floor((size + padTotal - (k - 1) * dilation - 1) / stride) + 1;
}

/**
 * Explicit [before, after] padding along one axis. 'same' is SAME_UPPER (output = ceil(in/stride), the
 * extra pixel after), matching TensorFlow and ONNX; a number pads both sides alike.
 */
export function resolvePad(
  pad: 'same' | 'valid' | number | readonly number[],
  axis: 0 | 1,
  size: number,
  k: number,
  stride: number,
  dilation: number,
): [number, number] {
  if (pad === 'valid') return [0, 0];
  if (typeof pad === 'number') return [pad, pad];
  if (pad === 'same') {
    if (size === -1) throw new Error("'same' padding needs a known spatial size");
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  }
  return [pad[axis * 2], pad[axis * 2 + 1]];
}
