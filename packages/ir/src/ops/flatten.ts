import { z } from 'zod';
import { knownSize } from './axis';
import { defineOp, noMacs } from './op';

export const flattenAttrs = z.strictObject({
  /** Axes before it form the first output dimension, the rest the second (0…rank; negative from the end). */
  axis: z.number().int().default(1),
});
export type FlattenAttrs = z.infer<typeof flattenAttrs>;

function splitAt(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a > rank)
    throw new Error(`axis ${axis} is out of range for rank ${rank} (expected ${-rank}…${rank})`);
  return a;
}

/**
 * Collapses a tensor to 2-D: [∏ dims before axis, ∏ dims from axis]. ONNX `Flatten`.
 *
 * @example
 * const vec = b.op('flatten', [pooled]); // [-1, 1, 1, 512] → [-1, 512]
 */
export const flattenOp = defineOp<FlattenAttrs>({
  name: 'flatten',
  inputs: ['x'],
  attrs: flattenAttrs,
  channels: { kind: 'opaque' },
  sign: 'preserves',
  macs: noMacs,
  differentiable: true,
  weight: null,
  infer([x], a) {
    if (!x) throw new Error('flatten needs an input');
    const at = splitAt(a.axis, x.shape.length);
    return [{ shape: [knownSize(x.shape.slice(0, at)), knownSize(x.shape.slice(at))], dtype: x.dtype }];
  },
  forward([x], a) {
    const t = x!;
    const at = splitAt(a.axis, t.rank);
    return [t.reshape([knownSize(t.shape.slice(0, at)), knownSize(t.shape.slice(at))])];
  },
  onnx(emit, a) {
    emit.add('Flatten', [emit.input(0)], [emit.output(0)], { axis: a.axis });
  },
});

declare module './op' {
  interface OpAttrs {
    flatten: z.input<typeof flattenAttrs>;
  }
}
