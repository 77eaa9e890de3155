import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { OnnxNodeEmitter } from '../onnx/emitter';
import { resolveAxes } from './axis';
import { defineOp, noMacs, type OpDef } from './op';

export const reduceAttrs = z.strictObject({
  /** Axes to reduce (negative from the end); omitted = all axes. */
  axes: z.array(z.number().int()).min(1).optional(),
  keepDims: z.boolean().default(false),
});
export type ReduceAttrs = z.infer<typeof reduceAttrs>;

/**
 * Emits an ONNX ReduceSum/ReduceMean over explicit axes. The axes moved from an attribute to an
 * input in opset 13 for ReduceSum and in opset 18 for ReduceMean.
 */
export function emitReduce(
  emit: OnnxNodeEmitter,
  type: 'ReduceSum' | 'ReduceMean',
  x: string,
  y: string,
  axes: number[],
  keepDims: boolean,
): void {
  const axesAsInput = emit.opset >= (type === 'ReduceSum' ? 13 : 18);
  const keepdims = keepDims ? 1 : 0;
  if (axesAsInput)
    emit.add(type, [x, emit.constant(axes, [axes.length], 'int64', 'axes')], [y], { keepdims });
  else emit.add(type, [x], [y], { axes, keepdims });
}

/** Defines a reduction over `axes` with tfjs function `fn` and ONNX op `onnxType`. */
export function defineReduceOp(
  name: string,
  fn: (x: tf.Tensor, axes: number[], keepDims: boolean) => tf.Tensor,
  onnxType: 'ReduceSum' | 'ReduceMean',
): OpDef<ReduceAttrs> {
  return defineOp<ReduceAttrs>({
    name,
    inputs: ['x'],
    attrs: reduceAttrs,
    infer([x], a) {
      if (!x) throw new Error(`${name} needs an input`);
      if (x.dtype !== 'float32') throw new Error(`${name} needs a float32 input, got ${x.dtype}`);
      const axes = resolveAxes(a.axes, x.shape.length);
      const shape = a.keepDims
        ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
        : x.shape.filter((_, i) => !axes.includes(i));
      return [{ shape, dtype: 'float32' }];
    },
    forward([x], a) {
      return [fn(x!, resolveAxes(a.axes, x!.rank), a.keepDims)];
    },
    onnx(emit, a) {
      const axes = resolveAxes(a.axes, emit.inputInfo(0)!.shape.length);
      emitReduce(emit, onnxType, emit.input(0), emit.output(0), axes, a.keepDims);
    },
    // Reducing may take the channel axis away, so channel removal does not see through it.
    channels: { kind: 'opaque' },
    sign: 'any',
    macs: noMacs,
    differentiable: true,
    weight: null,
  });
}

/** tfjs reductions with the (x, axes, keepDims) signature the factory expects. */
export const tfReduce = {
  sum: (x: tf.Tensor, axes: number[], keepDims: boolean) => tf.sum(x, axes, keepDims),
  mean: (x: tf.Tensor, axes: number[], keepDims: boolean) => tf.mean(x, axes, keepDims),
};
