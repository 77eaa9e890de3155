import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import { GraphBuilder, ParamStore, Pipeline, run, stripTrainOnly, type Batch, type DataSource, type Graph, type LossContext } from '@bevzip/ir';
import { conformance, PluginTester } from '@bevzip/plugin-tester';
import { container as root } from 'tsyringe';
import { register } from './index';
import { resolveOptions, unidistillOptions, type UnidistillInput } from './options';
import { ADAPTER_VALUES, addAdapters, unidistill } from './plugin';

/** A bev-fusion-shaped toy: low-level BEV 8×8, high-level 4×4, CenterPoint-like heads, tapped by the default names. */
function toy(modality: 'camera' | 'lidar' | 'fusion', lowChannels: number): Graph {
  const b = new GraphBuilder(`toy-${modality}`, { modality });
  const conv = (x: string, name: string, cin: number, cout: number, strides = 1) => {
    const w = b.param(`${name}_w`, [3, 3, cin, cout]);
    return b.op('conv2d', [x, w, b.param(`${name}_b`, [cout], { role: 'bias' })], { strides, pad: 'same' });
  };
  const lows: string[] = [];
  if (modality !== 'lidar') {
    const x = b.input('cam_in', [-1, 8, 8, 3]);
    lows.push(b.scoped('encoders.camera.vtransform', { modality: 'camera', stage: 'view' }, () => b.op('relu', [conv(x, 'c', 3, lowChannels)], {}, { name: 'bev_pool' })));
  }
  if (modality !== 'camera') {
    const x = b.input('pts_in', [-1, 8, 8, 3]);
    lows.push(b.scoped('encoders.lidar.backbone', { modality: 'lidar', stage: 'backbone' }, () => b.op('relu', [conv(x, 'l', 3, lowChannels)], {}, { name: 'scatter' })));
  }
  const fused = b.scoped('fuser', { modality: 'fusion', stage: 'encoder' }, () => b.op('relu', [conv(lows.length > 1 ? b.op('concat', lows, { axis: 3 }) : lows[0], 'f', lowChannels * lows.length, 4)], {}, { name: 'relu' }));
  const high = b.scoped('decoder.neck', { modality: 'fusion', stage: 'decoder' }, () => b.op('relu', [conv(fused, 'n', 4, 6, 2)], {}, { name: 'concat' }));
  const heads = b.scoped('heads', { modality: 'fusion', stage: 'head' }, () => [conv(high, 'hm', 6, 3), conv(high, 'rg', 6, 10)]);
  b.output(b.op('scale', [heads[0]], { factor: 1 }, { name: 'heatmap' }), b.op('scale', [heads[1]], { factor: 1 }, { name: 'reg' }));
  return b.build();
}

const camera = toy('camera', 4);
const lidar = toy('lidar', 5);
const fusion = toy('fusion', 5);
const GRID = { xmin: -8, ymin: -8, cell: 2, size: [8, 8] as const };
const BOXES = [
  [{ x: 1.2, y: -2.5, length: 4.5, width: 2, yaw: 0.3, classIndex: 0 }, { x: -4, y: 3, length: 1, width: 0.8, yaw: -1.2, classIndex: 2 }],
  [{ x: 5, y: 5.5, length: 6, width: 2.5, yaw: 2, classIndex: 1 }],
];

/** Random feeds for every input of the student and the teacher, with the grid and the boxes. */
function data(graphs: Graph[], boxes = BOXES): DataSource {
  return {
    batch: (step) => {
      const feeds: Record<string, tf.Tensor> = {};
      for (const g of graphs) for (const i of g.inputs) feeds[i.name] ??= tf.randomUniform([2, ...i.shape.slice(1)], -1, 1, 'float32', step * 31 + i.name.length);
      return { feeds, geometry: { cameras: [[], []], grid: GRID }, boxes };
    },
  };
}

const l2c: UnidistillInput = { setting: 'lidar->camera' };
const harness = { data: () => data([camera, lidar]), teacher: lidar };

new PluginTester({ ...harness }).run<UnidistillInput>('unidistill', unidistill, {
  valid: [
    { name: 'L→C adds two 1×1 adapters to the teacher widths', graph: camera, options: l2c, expect: { shapes: { [ADAPTER_VALUES.low]: [-1, 8, 8, 5], [ADAPTER_VALUES.high]: [-1, 4, 4, 6] } } },
    { name: 'L→C without adapters, relation and response only', graph: camera, options: { ...l2c, adapters: { enabled: false }, feature: { enabled: false } } },
    { name: 'each term alone with its own weight', graph: camera, options: { ...l2c, relation: { enabled: false }, response: { enabled: false }, feature: { weight: 3 } } },
  ],
  invalid: [
    { name: 'a student tap the graph lacks', graph: camera, options: { ...l2c, studentHighTap: 'nowhere' }, expect: { error: /option 'studentHighTap': student graph 'toy-camera' has no value 'nowhere'; expected a high-level BEV feature/ } },
    { name: 'a teacher tap the teacher lacks', graph: camera, options: { ...l2c, teacherLowTap: 'encoders.camera.vtransform.bev_pool' }, expect: { error: /option 'teacherLowTap': teacher graph 'toy-lidar' has no value 'encoders.camera.vtransform.bev_pool'/ } },
    { name: 'a student of the wrong modality', graph: camera, options: { setting: 'camera->lidar' }, expect: { error: /option 'setting' is 'camera->lidar', which needs a lidar student; the student graph 'toy-camera' is camera/ } },
    { name: 'unequal low-level widths without adapters', graph: camera, options: { ...l2c, adapters: { enabled: false } }, expect: { error: /the student's low-level BEV has 4 channels and the teacher's 5; enable adapters/ } },
    { name: 'every term switched off', graph: camera, options: { ...l2c, feature: { enabled: false }, relation: { enabled: false }, response: { enabled: false } }, expect: { error: /at least one of feature, relation, response/ } },
    { name: 'a negative weight', graph: camera, options: { ...l2c, relation: { weight: -1 } }, expect: { error: /relation\.weight/ } },
  ],
});

new PluginTester({ data: () => data([camera, camera]), teacher: camera }).run<UnidistillInput>('unidistill with a camera teacher', unidistill, {
  valid: [],
  invalid: [{ name: 'L→C refuses a camera teacher before training', graph: camera, options: l2c, expect: { error: /option 'setting' is 'lidar->camera', which needs a lidar teacher; the teacher graph 'toy-camera' is camera/ } }],
});

new PluginTester({ data: () => data([lidar, fusion]), teacher: fusion }).run<UnidistillInput>('unidistill F→L', unidistill, {
  valid: [{ name: 'fusion teacher (fuser output) into a LiDAR student', graph: lidar, options: { setting: 'fusion->lidar' }, expect: { shapes: { [ADAPTER_VALUES.low]: [-1, 8, 8, 4] } } }],
  invalid: [],
});

conformance('unidistill', unidistill, {
  graph: camera,
  options: l2c,
  ...harness,
  badOptions: [{ setting: 'radar->camera' }, { response: { teacherTemperature: 0 } }, { adapters: { init: 'zeros' } }, { bogus: 1 }],
});

describe('unidistill', () => {
  it('the per-setting weights are the official code’s, and each can be overridden', () => {
    const w = (i: UnidistillInput) => resolveOptions(unidistillOptions.parse(i)).weights;
    expect(w({ setting: 'lidar->camera' })).toEqual({ feature: 100, relation: 40, response: 10 });
    expect(w({ setting: 'fusion->camera' })).toEqual({ feature: 10, relation: 5, response: 10 });
    expect(w({ setting: 'camera->lidar' })).toEqual({ feature: 10, relation: 5, response: 1 });
    expect(w({ setting: 'fusion->lidar', relation: { weight: 2 } })).toEqual({ feature: 10, relation: 2, response: 10 });
    const taps = resolveOptions(unidistillOptions.parse({ setting: 'fusion->lidar' }));
    expect([taps.studentLowTap, taps.teacherLowTap]).toEqual(['encoders.lidar.backbone.scatter', 'fuser.relu']);
  });

  it('fails before training when the stage has no teacher, naming the setting', async () => {
    const p = new Pipeline({ seed: 1, graph: camera, stages: [{ name: 'kd', steps: 1, data: data([camera]), taskLoss: () => tf.scalar(0) }] }).use(unidistill(l2c));
    await expect(p.run()).rejects.toThrow(/unidistill: stage 'kd' has no teacher; setting 'lidar->camera' needs a frozen lidar teacher/);
  });

  it('fails on the first step when the batches carry no ground-truth boxes', async () => {
    const source = data([camera, lidar]);
    const noBoxes: DataSource = { batch: async (s, c) => ({ ...(await source.batch(s, c)), boxes: undefined }) };
    const tp = ParamStore.init(lidar, 3);
    const p = new Pipeline({ seed: 1, graph: camera, stages: [{ name: 'kd', steps: 1, data: noBoxes, taskLoss: () => tf.scalar(0), teacher: { graph: lidar, params: tp } }] }).use(unidistill(l2c));
    await expect(p.run()).rejects.toThrow(/the batch carries no ground-truth boxes \(Batch.boxes\)/);
    tp.dispose();
  });

  it('identity adapters start as the student’s own feature on the shared channels', () => {
    const o = resolveOptions(unidistillOptions.parse(l2c));
    const params = ParamStore.init(addAdapters(camera, lidar, o), 1);
    const g = addAdapters(camera, lidar, o, params);
    const x = tf.randomUniform([2, 8, 8, 3], -1, 1, 'float32', 4);
    const r = run(g, params, { cam_in: x }, { outputs: [], taps: ['encoders.camera.vtransform.bev_pool', ADAPTER_VALUES.low] });
    const own = r.taps['encoders.camera.vtransform.bev_pool'];
    const adapted = r.taps[ADAPTER_VALUES.low];
    expect(adapted.shape).toEqual([2, 8, 8, 5]);
    const same = tf.slice(adapted, [0, 0, 0, 0], [-1, -1, -1, 4]);
    expect(Array.from(same.dataSync())).toEqual(Array.from(own.dataSync()));
    expect(tf.slice(adapted, [0, 0, 0, 4], [-1, -1, -1, 1]).dataSync().every((v) => v === 0)).toBe(true);
    tf.dispose([x, ...Object.values(r.taps), ...Object.values(r.outputs), same]);
    params.dispose();
  });

  it('the loss trains the student and the adapters, never the teacher', () => {
    const o = resolveOptions(unidistillOptions.parse({ ...l2c, adapters: { init: 'normal' } }));
    const params = ParamStore.init(camera, 1);
    const g = addAdapters(camera, lidar, o, params);
    const studentParams = ParamStore.init(g, 2);
    const teacherParams = ParamStore.init(lidar, 3);
    const batch = (data([camera, lidar]).batch(0, { seed: 0, stage: 'kd' }) as Batch);
    const hooks = unidistill(l2c).definition.hooks(unidistillOptions.parse(l2c) as never) as { loss: (ctx: LossContext) => Record<string, { value: tf.Scalar; weight: number }> };
    const sTaps = [ADAPTER_VALUES.low, ADAPTER_VALUES.high, 'heatmap', 'reg'];
    const tTaps = [o.teacherLowTap, o.teacherHighTap, 'heatmap', 'reg'];
    const studentVars = g.params.map((p) => studentParams.get(p.name));
    const teacherVars = lidar.params.map((p) => teacherParams.get(p.name));
    // The teacher runs in tfjs on the same tape here, so only the plugin's stop-gradient keeps it out.
    const { value, grads } = tf.variableGrads(() => {
      const s = run(g, studentParams, batch.feeds, { outputs: [], taps: sTaps, training: true }).taps;
      const t = run(lidar, teacherParams, batch.feeds, { outputs: [], taps: tTaps }).taps;
      const terms = hooks.loss({ batch, student: { outputs: {}, taps: s }, teacher: { taps: t }, graph: g, params: studentParams } as unknown as LossContext);
      expect(Object.keys(terms).sort()).toEqual(['feature', 'relation', 'response']);
      return tf.addN(Object.values(terms).map((x) => tf.mul(x.value, x.weight))) as tf.Scalar;
    }, [...studentVars, ...teacherVars]);
    expect(value.dataSync()[0]).toBeGreaterThan(0);
    const norm = (name: string, store: ParamStore) => {
      const gr = grads[store.get(name).name];
      return gr ? tf.max(tf.abs(gr)).dataSync()[0] : 0;
    };
    for (const p of g.params) expect([p.name, norm(p.name, studentParams) > 0]).toEqual([p.name, true]);
    for (const p of lidar.params) expect([p.name, norm(p.name, teacherParams)]).toEqual([p.name, 0]);
    tf.dispose([value, ...Object.values(grads), ...Object.values(batch.feeds)]);
    for (const s of [params, studentParams, teacherParams]) s.dispose();
  });

  it('adapters are train-only: the stripped graph is the plain student', () => {
    const g = addAdapters(camera, lidar, resolveOptions(unidistillOptions.parse(l2c)));
    expect(g.params.length).toBe(camera.params.length + 4);
    const stripped = stripTrainOnly(g);
    expect(stripped.nodes.map((n) => n.name)).toEqual(camera.nodes.map((n) => n.name));
    expect(stripped.params.map((p) => p.name)).toEqual(camera.params.map((p) => p.name));
  });

  it('registers one plugin under PLUGIN and nothing on import', () => {
    const c = root.createChildContainer();
    expect(c.isRegistered(Symbol.for('@bevzip/ir:plugin'))).toBe(false);
    register(c, l2c);
    expect(c.resolveAll<{ name: string }>(Symbol.for('@bevzip/ir:plugin')).map((p) => p.name)).toEqual(['unidistill']);
  });
});
