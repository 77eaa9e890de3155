import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { matMulPlain } from './matmul-plain';
import { sizeOf } from '../graph';
import { defineOp, mergeDim } from './op';

/**
 * Fully connected layer over the last axis: x (…, in) · weight [in, out] + bias [out]. Leading axes
 * are flattened into one batch for a single 2-D matmul (the fast path on wasm). ONNX `Gemm` for
 * rank-2 x, `MatMul` (+ `Add`) otherwise.
 *
 * @example
 * const w = b.param('fc.weight', [256, 10], { init: { kind: 'glorotUniform' } });
 * const logits = b.op('dense', [features, w, b.param('fc.bias', [10], { role: 'bias' })]);
 */
export const denseOp = defineOp<Record<string, never>>({
  name: 'dense',
  inputs: ['x', 'weight', 'bias?'],
  attrs: z.strictObject({}),
  channels: { kind: 'produce', weightInput: 1, inAxis: 0, biasInput: 2 },
  sign: 'any',
  macs: ([, w], [y]) => sizeOf(y.shape) * w!.shape[0],
  differentiable: true,
  weight: { input: 1, outAxis: 1 },
  infer([x, w, b]) {
    if (!x || !w) throw new Error('dense needs x and weight');
    if (x.shape.length < 1) throw new Error('x must have at least one axis (the features)');
    if (w.shape.length !== 2) throw new Error(`weight must be [in, out], got [${w.shape}]`);
    const [inDim, outDim] = w.shape;
    mergeDim(
      x.shape[x.shape.length - 1],
      inDim,
      `input features of x [${x.shape}] do not match weight [${w.shape}]`,
    );
    if (b) {
      if (b.shape.length !== 1) throw new Error(`bias must be [out], got [${b.shape}]`);
      mergeDim(b.shape[0], outDim, `bias length does not match weight [${w.shape}] outputs`);
    }
    return [{ shape: [...x.shape.slice(0, -1), outDim], dtype: 'float32' }];
  },
  forward([x, w, b]) {
    const t = x!;
    const [inDim, outDim] = w!.shape;
    const flat = (t.rank === 2 ? t : t.reshape([-1, inDim])) as tf.Tensor2D;
    let y: tf.Tensor = matMulPlain(flat, w!);
    if (b) y = tf.add(y, b);
    return [t.rank === 2 ? y : y.reshape([...t.shape.slice(0, -1), outDim])];
  },
  onnx(emit) {
    const rank = emit.inputInfo(0)!.shape.length;
    const hasBias = Boolean(emit.input(2));
    if (rank === 2) {
      emit.add('Gemm', [emit.input(0), emit.input(1), ...(hasBias ? [emit.input(2)] : [])], [emit.output(0)]);
      return;
    }
    const product = hasBias ? emit.temp('dense_matmul') : emit.output(0);
    emit.add('MatMul', [emit.input(0), emit.input(1)], [product]);
    if (hasBias) emit.add('Add', [product, emit.input(2)], [emit.output(0)]);
  },
});

declare module './op' {
  interface OpAttrs {
    dense: Record<string, never>;
  }
}
