import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from './builder';
import { ERROR_CODES } from './errors';
import { run, selectParams, selectValues } from './interpreter';
import { ParamStore } from './params';
import { expectNoLeak } from './testing';

function twoBranch() {
  const b = new GraphBuilder('two');
  const img = b.input('img', [-1, 4, 4, 2]);
  const cam = b.scoped('camera.backbone', { modality: 'camera', stage: 'backbone' }, () => b.op('conv2d', [img, b.param('w', [3, 3, 2, 2])]));
  const lid = b.scoped('lidar.backbone', { modality: 'lidar', stage: 'backbone' }, () => b.op('conv2d', [img, b.param('w', [1, 1, 2, 2])]));
  const fused = b.scoped('fuser', { modality: 'fusion', stage: 'encoder' }, () => b.op('conv2d', [cam, b.param('w', [1, 1, 2, 1])]));
  b.output(fused);
  const graph = b.build();
  return { graph, params: ParamStore.init(graph, 5), cam, lid };
}

describe('interpreter', () => {
  it('selects params and values by tag and scope', () => {
    const { graph, params, cam, lid } = twoBranch();
    expect(selectParams(graph, { modality: 'camera' })).toEqual(['camera.backbone.w']);
    expect(selectValues(graph, { stage: 'backbone' })).toEqual([cam, lid]);
    expect(selectParams(graph, { scope: 'fuser' })).toEqual(['fuser.w']);
    params.dispose();
  });

  it('returns taps, runs only the nodes needed, and applies masks and transforms', () => {
    const { graph, params, cam, lid } = twoBranch();
    const img = tf.randomNormal([1, 4, 4, 2]);
    const zeroCamera = new Map([['camera.backbone.w', tf.zeros([3, 3, 2, 2])]]);
    const r = run(graph, params, { img }, { taps: [cam, lid], masks: zeroCamera });
    expect(Array.from(r.taps[cam].dataSync()).every((v) => v === 0)).toBe(true);
    expect(Array.from(r.taps[lid].dataSync()).some((v) => v !== 0)).toBe(true);
    const doubled = run(graph, params, { img }, { outputs: [cam], activationTransforms: new Map([[cam, (t: tf.Tensor) => t.mul(2)]]) });
    const plain = run(graph, params, { img }, { outputs: [cam] });
    expect(doubled.outputs[cam].sub(plain.outputs[cam].mul(2)).abs().max().dataSync()[0]).toBe(0);
    tf.dispose([img, ...zeroCamera.values(), r, doubled, plain] as never);
    params.dispose();
  });

  it('gives masked weights zero gradient', () => {
    const { graph, params } = twoBranch();
    const img = tf.randomNormal([2, 4, 4, 2]);
    const mask = tf.tensor(Array.from({ length: 36 }, (_, i) => i % 2), [3, 3, 2, 2]);
    const { grads } = tf.variableGrads(() => run(graph, params, { img }, { masks: new Map([['camera.backbone.w', mask]]) }).outputs[graph.outputs[0]].sum() as tf.Scalar, [params.get('camera.backbone.w')]);
    const g = grads['camera.backbone.w'] ?? Object.values(grads)[0];
    const gm = g.dataSync();
    const md = mask.dataSync();
    expect(Array.from(gm).every((v, i) => md[i] === 1 || v === 0)).toBe(true);
    expect(Array.from(gm).some((v) => v !== 0)).toBe(true);
    tf.dispose([img, mask, ...Object.values(grads)]);
    params.dispose();
  });

  it('rejects a missing or mis-shaped feed with the input named', () => {
    const { graph, params } = twoBranch();
    expect(() => run(graph, params, {})).toThrow(expect.objectContaining({ code: ERROR_CODES.MISSING_FEED, message: expect.stringContaining("'img'") }));
    const bad = tf.zeros([1, 5, 4, 2]);
    expect(() => run(graph, params, { img: bad })).toThrow(/input 'img' expects \[-1,4,4,2\]/);
    bad.dispose();
    params.dispose();
  });

  it('keeps the tensor count flat across repeated training-mode runs', () => {
    const { graph, params, cam } = twoBranch();
    const img = tf.randomNormal([1, 4, 4, 2]);
    expectNoLeak(() => tf.dispose(run(graph, params, { img }, { training: true, taps: [cam] }) as never));
    img.dispose();
    params.dispose();
  });
});

describe('ParamStore', () => {
  it('creates, clones and disposes without leaving tensors behind', () => {
    const { graph, params } = twoBranch();
    params.dispose();
    const before = tf.memory().numTensors;
    const store = ParamStore.init(graph, 1);
    const copy = store.clone();
    expect(tf.memory().numTensors).toBe(before + 2 * graph.params.length);
    store.dispose();
    copy.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
