import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { GraphBuilder } from '../builder';
import type { Attrs, TensorInfo } from '../graph';
import { run } from '../interpreter';
import { ParamStore } from '../params';
import { channelRuleOf } from '../passes/channel-rules';
import { expectNoLeak } from '../testing';
import { getOp, listOps, opMetadataProblems, registerOp } from './index';
import { defineOp, OP_METADATA_FIELDS } from './op';

const f32 = (...shape: number[]): TensorInfo => ({ shape, dtype: 'float32' });

describe('op metadata', () => {
  it('is declared in full by every registered op', () => {
    const ops = listOps();
    expect(ops.length).toBeGreaterThanOrEqual(33);
    const problems = ops.flatMap((name) => opMetadataProblems(getOp(name)).map((p) => `${name}: ${p}`));
    expect(problems).toEqual([]);
    for (const name of ops) {
      const op = getOp(name);
      for (const field of OP_METADATA_FIELDS) expect(op[field]).not.toBeUndefined();
    }
  });

  it('is required by registerOp, naming what is missing', () => {
    const bare = {
      name: 'test_bare',
      inputs: ['x'],
      attrs: z.object({}),
      infer: ([x]: readonly (TensorInfo | undefined)[]) => [x!],
      forward: ([x]: readonly (tf.Tensor | undefined)[]) => [x!],
      onnx: () => undefined,
    };
    expect(() => registerOp(bare as never)).toThrow(
      "registerOp('test_bare'): 'channels' is not declared; 'sign' is not declared; 'macs' is not declared; 'differentiable' is not declared; 'weight' is not declared",
    );
    expect(() => registerOp({ ...bare, channels: { kind: 'sideways' }, sign: 'positive', macs: 0, differentiable: 'yes', weight: { input: 1 } } as never)).toThrow(
      /'channels' must be a channel rule .*'sign' must be one of nonNegative, preserves, any, got "positive".*'macs' must be a function.*'differentiable' must be true or false.*'weight' must be null or \{ input/,
    );
    expect(listOps()).not.toContain('test_bare');
  });

  it('lets an op registered from outside declare its facts, and the passes read them', () => {
    registerOp(
      defineOp<{ gain: number }>({
        name: 'test_gain',
        inputs: ['x'],
        attrs: z.strictObject({ gain: z.number().positive() }),
        infer: ([x]) => [x!],
        forward: ([x], a) => [tf.mul(x!, a.gain)],
        onnx: () => undefined,
        channels: { kind: 'through' },
        sign: 'preserves',
        macs: ([x]) => x!.shape.reduce((n, d) => n * d, 1),
        differentiable: true,
        weight: null,
      }),
    );
    const node = { name: 'g', op: 'test_gain', scope: '', attrs: { gain: 2 } };
    expect(channelRuleOf(node)).toEqual({ kind: 'through' });
    expect(getOp('test_gain').macs([f32(1, 2, 3)], [f32(1, 2, 3)], { gain: 2 })).toBe(6);
  });

  it('resolves channel rules that depend on attributes', () => {
    const conv = (groups: number) => channelRuleOf({ name: 'c', op: 'conv2d', scope: '', attrs: { groups } });
    expect(conv(1)).toEqual({ kind: 'produce', weightInput: 1, inAxis: 2, biasInput: 2 });
    expect(conv(2)).toEqual({ kind: 'opaque' });
    expect(channelRuleOf({ name: 'c', op: 'concat', scope: '', attrs: {} })).toEqual({ kind: 'concat', axis: -1 });
    expect(channelRuleOf({ name: 'c', op: 'concat', scope: '', attrs: { axis: 1 } })).toEqual({ kind: 'concat', axis: 1 });
    expect(channelRuleOf({ name: 'n', op: 'layernorm', scope: '', attrs: {} })).toEqual({ kind: 'opaque' });
  });

  it('counts MACs as a hand count of the multiply-adds', () => {
    const macs = (op: string, ins: TensorInfo[], attrs: Record<string, unknown> = {}) => {
      const def = getOp(op);
      const a = def.attrs.parse(attrs);
      return def.macs(ins, def.infer(ins, a), a);
    };
    // 4×4 output positions × 8 output channels, each a 3×3×3 dot product.
    expect(macs('conv2d', [f32(1, 4, 4, 3), f32(3, 3, 3, 8)])).toBe(4 * 4 * 8 * 27);
    // Stride 2 and a depthwise kernel: 2×2 positions × 6 channels × a 3×3×1 window.
    expect(macs('conv2d', [f32(1, 4, 4, 6), f32(3, 3, 1, 6)], { strides: 2, groups: 6 })).toBe(2 * 2 * 6 * 9);
    expect(macs('dense', [f32(5, 7), f32(7, 3)])).toBe(5 * 3 * 7);
    // [2, 3, 4]ᵀ-side product: a is [B, K, M] with transposeA, so K = 3.
    expect(macs('matmul', [f32(2, 3, 4), f32(2, 3, 5)], { transposeA: true })).toBe(2 * 4 * 5 * 3);
    expect(macs('matmul', [f32(2, 4, 3), f32(2, 3, 5)])).toBe(2 * 4 * 5 * 3);
    // Each of the 3×3 input pixels scatters a 2×2 patch into 4 output channels from 6 inputs.
    expect(macs('conv_transpose2d', [f32(1, 3, 3, 6), f32(2, 2, 4, 6)], { strides: 2 })).toBe(9 * 6 * 2 * 2 * 4);
    // B=1, Lq=2, Lk=3, D=4: projections 2·16 + 3·16 + 3·16 + 2·16 = 160, Q·Kᵀ 2·3·4 = 24, mixing 24.
    expect(macs('attention', [f32(1, 2, 4), f32(1, 3, 4), f32(1, 3, 4), f32(4, 4), f32(4, 4), f32(4, 4), f32(4, 4)], { heads: 2 })).toBe(208);
    expect(macs('mul', [f32(2, 3, 1), f32(1, 3, 4)])).toBe(24);
    expect(macs('add', [f32(2, 3, 4), f32(2, 3, 4)])).toBe(0);
    expect(macs('relu', [f32(2, 3, 4)])).toBe(0);
  });

  it('declares sign facts the numbers bear out', () => {
    expectNoLeak(() => {
      const cases: { op: string; shapes: number[][]; attrs?: Attrs }[] = [
        { op: 'relu', shapes: [[2, 4, 4, 3]] },
        { op: 'sigmoid', shapes: [[2, 4, 4, 3]] },
        { op: 'softmax', shapes: [[2, 4, 4, 3]] },
        { op: 'add', shapes: [[2, 4, 4, 3], [2, 4, 4, 3]] },
        { op: 'mul', shapes: [[2, 4, 4, 3], [3]] },
        { op: 'concat', shapes: [[2, 4, 4, 3], [2, 4, 4, 2]] },
        { op: 'transpose', shapes: [[2, 4, 4, 3]], attrs: { perm: [0, 3, 1, 2] } },
        { op: 'reshape', shapes: [[2, 4, 4, 3]], attrs: { shape: [2, 48] } },
        { op: 'flatten', shapes: [[2, 4, 4, 3]] },
        { op: 'max_pool2d', shapes: [[2, 4, 4, 3]], attrs: { kernel: 2, strides: 2 } },
        { op: 'avg_pool2d', shapes: [[2, 4, 4, 3]], attrs: { kernel: 2, strides: 2 } },
        { op: 'resize_bilinear', shapes: [[2, 4, 4, 3]], attrs: { size: [7, 5] } },
        { op: 'resize_nearest', shapes: [[2, 4, 4, 3]], attrs: { size: [8, 8] } },
      ];
      for (const c of cases) {
        const sign = getOp(c.op).sign;
        expect([c.op, sign]).toEqual([c.op, expect.stringMatching(/^(nonNegative|preserves)$/)]);
        const b = new GraphBuilder('sign');
        const ins = c.shapes.map((s, i) => b.input(`x${i}`, s));
        b.output(b.op<string>(c.op, ins, c.attrs ?? {}));
        const graph = b.build();
        const params = ParamStore.init(graph, 0);
        // Non-negative ops see signed inputs; sign-preserving ops see non-negative ones.
        tf.tidy(() => {
          const feeds = Object.fromEntries(ins.map((name, i) => {
            const x = tf.randomNormal(c.shapes[i], 0, 1, 'float32', 7 + i);
            return [name, sign === 'nonNegative' ? x : tf.abs(x)];
          }));
          const out = run(graph, params, feeds).outputs[graph.outputs[0]];
          expect([c.op, out.min().dataSync()[0] >= 0]).toEqual([c.op, true]);
          if (sign === 'nonNegative') expect([c.op, feeds.x0.min().dataSync()[0] < 0]).toEqual([c.op, true]);
        });
        params.dispose();
      }
    });
    // Ops whose output can be negative from non-negative inputs claim nothing.
    for (const op of ['sub', 'conv2d', 'dense', 'batchnorm', 'layernorm', 'tanh', 'gelu', 'scale']) expect([op, getOp(op).sign]).toEqual([op, 'any']);
  });

  it('names the layers that own a kernel and its output-channel axis', () => {
    const weighted = listOps().filter((n) => getOp(n).weight !== null);
    expect(weighted.sort()).toEqual(['conv2d', 'conv_transpose2d', 'dense']);
    expect(getOp('conv2d').weight).toEqual({ input: 1, outAxis: 3 });
    expect(getOp('dense').weight).toEqual({ input: 1, outAxis: 1 });
    expect(getOp('conv_transpose2d').weight).toEqual({ input: 1, outAxis: 2 });
  });
});

describe('typed attributes', () => {
  it('checks GraphBuilder.op attributes against the op schema at compile time', () => {
    const b = new GraphBuilder('typed');
    const x = b.input('x', [1, 4, 4, 3]);
    const w = b.param('w', [3, 3, 3, 2]);
    expect(b.info(b.op('conv2d', [x, w], { strides: 2, pad: 'valid' })).shape).toEqual([1, 1, 1, 2]);
    // @ts-expect-error strides is a number or a pair
    expect(() => b.op('conv2d', [x, w], { strides: 'two' })).toThrow(/attrs.strides/);
    // @ts-expect-error unknown attribute name
    expect(() => b.op('concat', [x, x], { axes: 1 })).toThrow(/attrs/);
    // @ts-expect-error attention needs heads
    expect(() => b.op('attention', [x, x, x, w, w, w, w])).toThrow(/attrs.heads/);
    // @ts-expect-error relu takes no attributes
    expect(() => b.op('relu', [x], { alpha: 0.1 })).toThrow(/attrs/);
    // An op name only known at run time stays loosely typed.
    const name: string = 'relu';
    expect(b.info(b.op(name, [x], {})).shape).toEqual([1, 4, 4, 3]);
  });
});
