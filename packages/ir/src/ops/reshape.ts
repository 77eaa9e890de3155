import { z } from 'zod';
import { knownSize } from './axis';
import { defineOp, noMacs } from './op';

export const reshapeAttrs = z.strictObject({
  /** Target shape: 0 copies the input dimension at the same index, one -1 takes what is left. */
  shape: z
    .array(z.number().int().min(-1))
    .refine((s) => s.filter((d) => d === -1).length <= 1, 'shape may hold at most one -1'),
});
export type ReshapeAttrs = z.infer<typeof reshapeAttrs>;

/**
 * The output shape of a reshape of `input` (which may hold unknown -1 dims) to `spec`. A -1 in the
 * result means unknown until run time. Dims copied by 0 cancel out of the element count, so
 * `[-1, 4, 4, 3]` → `[0, -1]` infers `[-1, 48]`.
 */
export function reshapeShape(input: readonly number[], spec: readonly number[]): number[] {
  spec.forEach((d, i) => {
    if (d === 0 && i >= input.length)
      throw new Error(
        `shape [${spec}] copies dimension ${i} (0) but the input [${input}] has rank ${input.length}`,
      );
  });
  const out = spec.map((d, i) => (d === 0 ? input[i] : d));
  const rest = input.filter((_, i) => spec[i] !== 0);
  const restSize = knownSize(rest);
  const explicit = spec.filter((d) => d > 0).reduce((a, b) => a * b, 1);
  const free = spec.indexOf(-1);
  if (free >= 0) {
    if (restSize === -1) return out;
    if (restSize % explicit !== 0)
      throw new Error(
        `cannot reshape [${input}] to [${spec}]: ${restSize} elements do not divide by ${explicit}`,
      );
    out[free] = restSize / explicit;
  } else if (restSize !== -1 && restSize !== explicit) {
    throw new Error(`cannot reshape [${input}] (${knownSize(input)} elements) to [${spec}]`);
  }
  return out;
}

/**
 * Reshapes without moving data. `shape` follows ONNX's convention (0 copies the input dimension, one
 * -1 is inferred), so `[0, -1]` flattens per sample whatever the batch size. ONNX `Reshape` with
 * `allowzero = 0`.
 *
 * @example
 * const flat = b.op('reshape', [bev], { shape: [0, -1, 0] }); // [-1, 180, 180, 256] → [-1, 32400, 256]
 */
export const reshapeOp = defineOp<ReshapeAttrs>({
  name: 'reshape',
  inputs: ['x'],
  attrs: reshapeAttrs,
  channels: { kind: 'opaque' },
  sign: 'preserves',
  macs: noMacs,
  differentiable: true,
  weight: null,
  infer([x], a) {
    if (!x) throw new Error('reshape needs an input');
    return [{ shape: reshapeShape(x.shape, a.shape), dtype: x.dtype }];
  },
  forward([x], a) {
    const t = x!;
    return [t.reshape(reshapeShape(t.shape, a.shape))];
  },
  onnx(emit, a) {
    const shape = emit.constant(a.shape, [a.shape.length], 'int64', 'shape');
    emit.add('Reshape', [emit.input(0), shape], [emit.output(0)], emit.opset >= 14 ? { allowzero: 0 } : {});
  },
});

declare module './op' {
  interface OpAttrs {
    reshape: z.input<typeof reshapeAttrs>;
  }
}
