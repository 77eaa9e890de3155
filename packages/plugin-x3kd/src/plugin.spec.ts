import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import { GraphBuilder, ParamStore, Pipeline, run, stripTrainOnly, type Graph } from '@bevzip/ir';
import { conformance, PluginTester } from '@bevzip/plugin-tester';
import { container as root } from 'tsyringe';
import { register } from './index';
import { adversarialLoss } from './losses';
import { discriminator, MODULE_VALUES } from './modules';
import { x3kdOptions, type X3kdInput } from './options';
import { addModules, x3kd } from './plugin';

/** A camera-shaped toy: PV features from images, a BEV feature, a CenterPoint-like head. */
function toyCamera(): Graph {
  const b = new GraphBuilder('toy-camera', { modality: 'camera' });
  const img = b.input('images', [-1, 6, 8, 3]);
  const bevIn = b.input('bev_in', [-1, 8, 8, 4]);
  const conv = (x: string, name: string, cin: number, cout: number, relu: boolean) =>
    b.scoped(name, {}, () => {
      const y = b.op('conv2d', [x, b.param('weight', [3, 3, cin, cout]), b.param('bias', [cout], { role: 'bias' })], {}, { name: 'conv' });
      return relu ? b.op('relu', [y], {}, { name: 'relu' }) : y;
    });
  b.scoped('encoders.camera', { modality: 'camera', stage: 'neck' }, () => conv(img, 'neck', 3, 8, true));
  const bev = b.scoped('decoder', { modality: 'fusion', stage: 'decoder' }, () => conv(bevIn, 'neck', 4, 8, true));
  const heat = b.scoped('heads', { modality: 'fusion', stage: 'head' }, () => conv(bev, 'heatmap', 8, 3, false));
  const reg = b.scoped('heads', { modality: 'fusion', stage: 'head' }, () => conv(bev, 'reg', 8, 10, false));
  b.output(heat, reg);
  return b.build();
}

const graph = toyCamera();
const taps: X3kdInput = { imageTap: 'encoders.camera.neck.relu', studentBevTap: 'decoder.neck.relu', teacherBevTap: 'decoder.neck.relu', heatmap: 'heads.heatmap.conv', reg: 'heads.reg.conv', teacherLidarTap: 'decoder.neck.relu' };
const noIs: X3kdInput = { ...taps, is: { enabled: false } };

new PluginTester().run<X3kdInput>('x3kd', x3kd, {
  valid: [
    { name: 'adds Dec_FD and a discriminator behind gradient reversal', graph, options: noIs, expect: { shapes: { [MODULE_VALUES.fdOut]: [-1, 8, 8, 1], [MODULE_VALUES.atLogits]: [-1, 4, 4, 1], [MODULE_VALUES.atIn]: [-1, 8, 8, 8] } } },
    { name: 'X-OD alone on soft teacher heat maps', graph, options: { ...noIs, fd: { enabled: false }, at: { enabled: false }, od: { heatmapTarget: 'soft' } } },
    { name: 'a global discriminator with a constant scaled reversal', graph, options: { ...noIs, at: { output: 'global', grlLambda: 0.5, lambdaSchedule: 'constant' } } },
  ],
  invalid: [
    { name: 'a student tap the graph lacks', graph, options: { ...noIs, studentBevTap: 'nowhere' }, expect: { error: /option 'studentBevTap': student graph 'toy-camera' has no value 'nowhere'; expected a BEV feature/ } },
    { name: 'a teacher without a LiDAR branch', graph, options: { ...noIs, teacherLidarTap: 'encoders.lidar.backbone.scatter' }, expect: { error: /requires teacher tap 'encoders.lidar.backbone.scatter'/ } },
    { name: 'X-IS on batches without sensor geometry', graph, options: taps, expect: { error: /X-IS needs the batch sensor geometry/ } },
    { name: 'every component switched off', graph, options: { ...noIs, fd: { enabled: false }, at: { enabled: false }, od: { enabled: false } }, expect: { error: /at least one of is, fd, at, od/ } },
    { name: 'the default taps on a graph without them', options: {}, expect: { error: /option 'imageTap': student graph 'tiny' has no value 'encoders.camera.neck.out.relu'/ } },
  ],
});

conformance('x3kd', x3kd, {
  graph,
  options: noIs,
  badOptions: [{ at: { grlLambda: -1 } }, { at: { lambdaSchedule: 'linear' } }, { at: { gamma: 0 } }, { od: { threshold: 2 } }, { fd: { activation: 'median' } }, { bogus: 1 }],
});

describe('x3kd', () => {
  it('fails before training when the stage has no teacher', async () => {
    const data = { batch: () => ({ feeds: { images: tf.zeros([2, 6, 8, 3]), bev_in: tf.zeros([2, 8, 8, 4]) } }) };
    const p = new Pipeline({ seed: 1, graph, stages: [{ name: 'kd', steps: 1, data, taskLoss: () => tf.scalar(0) }] }).use(x3kd(noIs));
    await expect(p.run()).rejects.toThrow(/plugin 'x3kd' requires a teacher, but stage 'kd' has none/);
  });

  it('refuses a student with LiDAR nodes, naming the node', () => {
    const g = structuredClone(graph);
    g.nodes[0].tags.modality = 'lidar';
    delete g.meta;
    expect(() => addModules(g, x3kdOptions.parse(noIs))).toThrow(/student must be camera-only; graph 'toy-camera' is not \(node 'encoders.camera.neck.conv' is LiDAR\)/);
  });

  it('the reversal trains the discriminator on the loss and the student against it, at the scheduled λ of each step (one graph)', () => {
    const o = x3kdOptions.parse({ ...noIs, fd: { enabled: false }, od: { enabled: false }, at: { grlLambda: 0.3, lambdaSchedule: 'dann', gamma: 10 } });
    const g = addModules(graph, o);
    expect(g.nodes.find((n) => n.op === 'grad_reverse')!.attrs).toEqual({ lambda: 0.3, schedule: 'dann', gamma: 10 });
    const params = ParamStore.init(g, 5);
    const disc = discriminator(g.values[MODULE_VALUES.atIn].shape, o.at.channels);
    const bevIn = tf.randomNormal([2, 8, 8, 4], 0, 1, 'float32', 3);
    const teacherBev = tf.randomNormal([2, 8, 8, 8], 0, 1, 'float32', 4);
    const images = tf.zeros([2, 6, 8, 3]);
    const discParams = disc.params.map((p) => p.name);
    const lossVia = (withGrl: boolean, progress: number) => (x: tf.Tensor) => {
      const bev = run(g, params, { bev_in: bevIn }, { outputs: [], taps: ['decoder.neck.relu'] }).taps['decoder.neck.relu'];
      const s = withGrl
        ? run(g, params, { bev_in: bevIn, images }, { outputs: [], taps: [MODULE_VALUES.atLogits], progress, activationTransforms: new Map([['decoder.neck.relu', (v: tf.Tensor) => tf.add(v, x)]]) }).taps[MODULE_VALUES.atLogits]
        : run(disc, params, { [MODULE_VALUES.atIn]: tf.add(bev, x) }).outputs[MODULE_VALUES.atLogits];
      const t = run(disc, params, { [MODULE_VALUES.atIn]: teacherBev }).outputs[MODULE_VALUES.atLogits];
      return adversarialLoss(t, s, 'patch');
    };
    const zero = tf.zeros([2, 8, 8, 8]);
    const gPlain = tf.grad(lossVia(false, 0))(zero);
    const b = gPlain.dataSync();
    expect(Math.max(...Array.from(b, Math.abs))).toBeGreaterThan(1e-6);
    // λ = 0.3·(2/(1+exp(−10p)) − 1), by hand: p = 0.1 → 0.13863514717800294, p = 0.25 → 0.25448509198725393.
    for (const [progress, lambda] of [[0.1, 0.13863514717800294], [0.25, 0.25448509198725393]]) {
      // Gradient w.r.t. a perturbation of the student BEV: reversed and scaled by λ(p) through the graph.
      const gGrl = tf.grad(lossVia(true, progress))(zero);
      const a = gGrl.dataSync();
      b.forEach((v, i) => expect(Math.abs(a[i] + lambda * v)).toBeLessThanOrEqual(1e-6 + 1e-4 * Math.abs(v)));
      gGrl.dispose();
    }
    // The discriminator's own gradients are not reversed.
    const vars = discParams.map((n) => params.get(n));
    const dGrl = tf.variableGrads(() => lossVia(true, 0.25)(zero), vars).grads;
    const dPlain = tf.variableGrads(() => lossVia(false, 0.25)(zero), vars).grads;
    for (const n of Object.keys(dPlain)) {
      const p = dPlain[n].dataSync();
      const q = dGrl[n].dataSync();
      p.forEach((v, i) => expect(Math.abs(q[i] - v)).toBeLessThanOrEqual(1e-6 + 1e-4 * Math.abs(v)));
    }
    tf.dispose([bevIn, teacherBev, images, zero, gPlain, ...Object.values(dGrl), ...Object.values(dPlain)]);
    params.dispose();
  });

  it('train-only modules are stripped before export: the inference graph equals the plain student', () => {
    const g = addModules(graph, x3kdOptions.parse({ ...taps }));
    expect(g.params.length).toBeGreaterThan(graph.params.length);
    const stripped = stripTrainOnly(g);
    expect(stripped.nodes.map((n) => n.name)).toEqual(graph.nodes.map((n) => n.name));
    expect(stripped.params.map((p) => p.name)).toEqual(graph.params.map((p) => p.name));
  });

  it('registers one plugin under PLUGIN and nothing on import', () => {
    const c = root.createChildContainer();
    expect(c.isRegistered(Symbol.for('@bevzip/ir:plugin'))).toBe(false);
    register(c, noIs);
    expect(c.resolveAll<{ name: string }>(Symbol.for('@bevzip/ir:plugin')).map((p) => p.name)).toEqual(['x3kd']);
  });
});
