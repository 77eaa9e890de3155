import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../builder';
import { run } from '../interpreter';
import { ParamStore } from '../params';
import { defineOp } from '../ops/op';
import { registerOp } from '../ops';
import { z } from 'zod';
import { maxRelError } from '../testing';
import { ortTeacher } from './ort-teacher';

function teacherGraph(withUnexportable = false) {
  const b = new GraphBuilder('teacher');
  const x = b.input('x', [-1, 8, 8, 3]);
  b.input('unused', [-1, 2]);
  const feat = b.scoped('backbone', { modality: 'camera', stage: 'backbone' }, () => b.op('relu', [b.op('conv2d', [x, b.param('w', [3, 3, 3, 4])], { strides: 2 })]));
  const head = b.scoped('head', { modality: 'fusion', stage: 'head' }, () =>
    b.op(withUnexportable ? 'test_no_onnx' : 'conv2d', withUnexportable ? [feat] : [feat, b.param('w', [1, 1, 4, 2])]),
  );
  b.output(head);
  const graph = b.build();
  return { graph, params: ParamStore.init(graph, 2), feat, head };
}

registerOp(
  defineOp({
    name: 'test_no_onnx',
    inputs: ['x'],
    attrs: z.object({}),
    infer: ([x]) => [x!],
    forward: ([x]) => [tf.neg(x!)],
    onnx: () => {
      throw new Error('no ONNX mapping');
    },
    channels: { kind: 'through' },
    sign: 'any',
    macs: () => 0,
    differentiable: true,
    weight: null,
  }),
);

describe('onnxruntime teacher', () => {
  it('returns the same taps as the interpreter within 1e-4, feeding only the inputs its taps need', async () => {
    const { graph, params, feat, head } = teacherGraph();
    const x = tf.randomNormal([2, 8, 8, 3]);
    const teacher = ortTeacher(graph, params);
    const got = await teacher.run({ x, unused: tf.zeros([2, 2]), extra: tf.zeros([1]) }, [feat, head]);
    const ref = run(graph, params, { x }, { outputs: [head], taps: [feat] });
    expect(maxRelError(got[feat].dataSync(), ref.taps[feat].dataSync())).toBeLessThan(1e-4);
    expect(maxRelError(got[head].dataSync(), ref.outputs[head].dataSync())).toBeLessThan(1e-4);
    expect(got[feat].shape).toEqual([2, 4, 4, 4]);
    tf.dispose([x, got, ref] as never);
    params.dispose();
  });

  it('falls back to the interpreter, saying why, when an op cannot be exported', async () => {
    const { graph, params, head } = teacherGraph(true);
    const reasons: string[] = [];
    const teacher = ortTeacher(graph, params, { onFallback: (r) => reasons.push(r) });
    const x = tf.randomNormal([1, 8, 8, 3]);
    const got = await teacher.run({ x }, [head]);
    const ref = run(graph, params, { x }).outputs[head];
    expect(Array.from(got[head].dataSync())).toEqual(Array.from(ref.dataSync()));
    expect(reasons).toEqual([expect.stringMatching(/tfjs interpreter: .*test_no_onnx.*no ONNX mapping/)]);
    tf.dispose([x, got, ref] as never);
    params.dispose();
  });
});
