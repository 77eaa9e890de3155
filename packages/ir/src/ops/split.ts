import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { resolveAxis } from './axis';
import { defineOp, noMacs } from './op';

export const splitAttrs = z.strictObject({
  axis: z.number().int().default(-1),
  /** Size of each piece along `axis`; one output per entry, summing to the axis length. */
  sizes: z.array(z.number().int().positive()).min(1),
});
export type SplitAttrs = z.infer<typeof splitAttrs>;

/**
 * Cuts a tensor into consecutive pieces along `axis`, one output per entry of `sizes`. ONNX `Split`
 * (sizes as an int64 input from opset 13, an attribute before).
 *
 * @example
 * const [depthLogits, context] = b.opMulti('split', [camFeat], { axis: -1, sizes: [118, 80] }, { outputs: 2 });
 */
export const splitOp = defineOp<SplitAttrs>({
  name: 'split',
  inputs: ['x'],
  attrs: splitAttrs,
  channels: { kind: 'opaque' },
  sign: 'preserves',
  macs: noMacs,
  differentiable: true,
  weight: null,
  infer([x], a) {
    if (!x) throw new Error('split needs an input');
    const axis = resolveAxis(a.axis, x.shape.length);
    const total = a.sizes.reduce((s, v) => s + v, 0);
    const dim = x.shape[axis];
    if (dim !== -1 && dim !== total)
      throw new Error(`sizes [${a.sizes}] sum to ${total} but axis ${axis} of [${x.shape}] has ${dim}`);
    return a.sizes.map((size) => ({ shape: x.shape.map((d, i) => (i === axis ? size : d)), dtype: x.dtype }));
  },
  forward([x], a) {
    const t = x!;
    const axis = resolveAxis(a.axis, t.rank);
    const total = a.sizes.reduce((s, v) => s + v, 0);
    if (t.shape[axis] !== total)
      throw new Error(
        `sizes [${a.sizes}] sum to ${total} but axis ${axis} of x [${t.shape}] has ${t.shape[axis]}`,
      );
    return a.sizes.length === 1 ? [tf.clone(t)] : tf.split(t, a.sizes, axis);
  },
  onnx(emit, a) {
    const outputs = a.sizes.map((_, i) => emit.output(i));
    if (emit.opset >= 13)
      emit.add(
        'Split',
        [emit.input(0), emit.constant(a.sizes, [a.sizes.length], 'int64', 'split_sizes')],
        outputs,
        { axis: a.axis },
      );
    else emit.add('Split', [emit.input(0)], outputs, { axis: a.axis, split: a.sizes });
  },
});

declare module './op' {
  interface OpAttrs {
    split: z.input<typeof splitAttrs>;
  }
}
