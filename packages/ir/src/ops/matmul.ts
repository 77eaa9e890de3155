import { z } from 'zod';
import { swapLastTwo } from './axis';
import { matMulPlain } from './matmul-plain';
import { sizeOf } from '../graph';
import { broadcastShapes, defineOp, mergeDim } from './op';

export const matmulAttrs = z.strictObject({
  transposeA: z.boolean().default(false),
  transposeB: z.boolean().default(false),
});
export type MatmulAttrs = z.infer<typeof matmulAttrs>;

/**
 * Batched matrix product over the last two axes (rank ≥ 2 each); leading batch axes broadcast.
 * Computed by {@link matMulPlain} (flag-free 2-D products, fast on wasm in training too).
 * ONNX `MatMul`, with the transposes folded into the initializer for params or emitted as `Transpose`.
 *
 * @example
 * const scores = b.op('matmul', [queries, keys], { transposeB: true }); // [B, Q, D] × [B, K, D] → [B, Q, K]
 */
export const matmulOp = defineOp<MatmulAttrs>({
  name: 'matmul',
  inputs: ['a', 'b'],
  attrs: matmulAttrs,
  channels: { kind: 'opaque' },
  sign: 'any',
  macs: ([a], [y], at) => sizeOf(y.shape) * a!.shape[a!.shape.length - (at.transposeA ? 2 : 1)],
  differentiable: true,
  weight: null,
  infer([a, b], at) {
    if (!a || !b) throw new Error('matmul needs two inputs');
    if (a.shape.length < 2 || b.shape.length < 2)
      throw new Error(`matmul needs rank ≥ 2 inputs, got [${a.shape}] and [${b.shape}]`);
    const [ar, ac] = a.shape.slice(-2);
    const [br, bc] = b.shape.slice(-2);
    const [m, ka] = at.transposeA ? [ac, ar] : [ar, ac];
    const [kb, n] = at.transposeB ? [bc, br] : [br, bc];
    mergeDim(
      ka,
      kb,
      `inner dimensions of [${a.shape}] and [${b.shape}] do not agree (transposeA ${at.transposeA}, transposeB ${at.transposeB})`,
    );
    const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
    return [{ shape: [...batch, m, n], dtype: 'float32' }];
  },
  forward([a, b], at) {
    return [matMulPlain(a!, b!, at.transposeA, at.transposeB)];
  },
  onnx(emit, at) {
    const side = (i: number, transpose: boolean) =>
      transpose ? emit.constInput(i, swapLastTwo(emit.inputInfo(i)!.shape.length)) : emit.input(i);
    emit.add('MatMul', [side(0, at.transposeA), side(1, at.transposeB)], [emit.output(0)]);
  },
});

declare module './op' {
  interface OpAttrs {
    matmul: z.input<typeof matmulAttrs>;
  }
}
