import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { defineOp, noMacs } from './op';

export const sliceAttrs = z
  .strictObject({
    /** Start index per leading axis (axes past the list are taken whole). */
    begin: z.array(z.number().int().min(0)),
    /** Length per axis; -1 runs to the end of the axis. */
    size: z.array(
      z
        .number()
        .int()
        .refine((v) => v === -1 || v > 0, 'size entries must be positive or -1'),
    ),
  })
  .refine((a) => a.begin.length === a.size.length, 'begin and size must have one entry per axis each');
export type SliceAttrs = z.infer<typeof sliceAttrs>;

/** Larger than any axis: ONNX clamps Slice ends to the dimension, which a -1 size relies on. */
const TO_END = Number.MAX_SAFE_INTEGER;

/**
 * A contiguous box: `size[i]` elements from `begin[i]` on each leading axis. tf.slice (whose gradient
 * pads) rather than StridedSlice, which has no gradient in tfjs. ONNX `Slice`.
 *
 * @example
 * const firstSweep = b.op('slice', [points], { begin: [0, 0, 0], size: [-1, -1, 4] }); // drop channels past 4
 */
export const sliceOp = defineOp<SliceAttrs>({
  name: 'slice',
  inputs: ['x'],
  attrs: sliceAttrs,
  channels: { kind: 'opaque' },
  sign: 'preserves',
  macs: noMacs,
  differentiable: true,
  weight: null,
  infer([x], a) {
    if (!x) throw new Error('slice needs an input');
    if (a.begin.length > x.shape.length)
      throw new Error(`begin/size have ${a.begin.length} entries, more than the rank of [${x.shape}]`);
    const shape = x.shape.map((dim, i) => {
      if (i >= a.begin.length) return dim;
      const [b, s] = [a.begin[i], a.size[i]];
      if (dim !== -1 && (b >= dim || (s !== -1 && b + s > dim))) {
        throw new Error(`axis ${i}: begin ${b} size ${s} does not fit in dimension ${dim} of [${x.shape}]`);
      }
      if (s !== -1) return s;
      return dim === -1 ? -1 : dim - b;
    });
    return [{ shape, dtype: x.dtype }];
  },
  forward([x], a) {
    return [tf.slice(x!, a.begin, a.size)];
  },
  onnx(emit, a) {
    const n = a.begin.length;
    const axes = Array.from({ length: n }, (_, i) => i);
    const ends = a.begin.map((b, i) => (a.size[i] === -1 ? TO_END : b + a.size[i]));
    if (emit.opset < 10) {
      emit.add('Slice', [emit.input(0)], [emit.output(0)], { starts: a.begin, ends, axes });
      return;
    }
    const c = (v: number[], hint: string) => emit.constant(v, [n], 'int64', hint);
    emit.add(
      'Slice',
      [emit.input(0), c(a.begin, 'starts'), c(ends, 'ends'), c(axes, 'axes')],
      [emit.output(0)],
    );
  },
});

declare module './op' {
  interface OpAttrs {
    slice: z.input<typeof sliceAttrs>;
  }
}
