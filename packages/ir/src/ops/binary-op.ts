import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { sizeOf } from '../graph';
import { broadcastShapes, defineOp, noMacs, type OpDef, type SignRule } from './op';

/**
 * Defines an element-wise two-input op with numpy broadcasting (unknown -1 dims allowed), mapped to the
 * ONNX op of the same broadcasting semantics. `floatOnly` refuses int32 inputs, for ops whose integer
 * rounding differs between tfjs and ONNX (division floors in one and truncates in the other).
 * `sign` is what is known of the output's sign; `multiplies` counts one MAC per output (mul, div).
 * Inputs share channel indexing, so structured channel removal unifies their channel spaces.
 *
 * @example
 * const add = defineBinaryOp('add', tf.add, 'Add', { sign: 'preserves' });
 */
export function defineBinaryOp(
  name: string,
  fn: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor,
  onnxType: string,
  { floatOnly = false, sign, multiplies = false }: { floatOnly?: boolean; sign: SignRule; multiplies?: boolean },
): OpDef<Record<string, never>> {
  return defineOp<Record<string, never>>({
    name,
    inputs: ['a', 'b'],
    attrs: z.strictObject({}),
    infer([a, b]) {
      if (!a || !b) throw new Error(`${name} needs two inputs`);
      if (a.dtype !== b.dtype)
        throw new Error(`${name} needs inputs of one dtype, got ${a.dtype} and ${b.dtype}`);
      if (floatOnly && a.dtype !== 'float32') throw new Error(`${name} needs float32 inputs, got ${a.dtype}`);
      return [{ shape: broadcastShapes(a.shape, b.shape), dtype: a.dtype }];
    },
    forward([a, b]) {
      return [fn(a!, b!)];
    },
    onnx(emit) {
      emit.add(onnxType, [emit.input(0), emit.input(1)], [emit.output(0)]);
    },
    channels: { kind: 'unify' },
    sign,
    macs: multiplies ? (_ins, [y]) => sizeOf(y.shape) : noMacs,
    differentiable: true,
    weight: null,
  });
}
