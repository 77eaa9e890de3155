import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../builder';
import { BevzipError } from '../errors';
import type { Graph } from '../graph';
import { ParamStore } from '../params';
import { Rng } from '../rng';
import { expectClose, expectNoLeak } from '../testing';
import { createOptimizer, type OptimizerConfig } from './optimizer';

/** A graph with two trainable params in different scopes and one running-statistics param. */
function tinyGraph(): Graph {
  const b = new GraphBuilder('tiny');
  const x = b.input('x', [1, 3]);
  b.scoped('camera.backbone', { modality: 'camera', stage: 'backbone' }, () => b.param('w', [2, 3], { init: { kind: 'normal', std: 1 } }));
  b.scoped('lidar.head', { modality: 'lidar', stage: 'head' }, () => b.param('b', [3], { role: 'bias', init: { kind: 'uniform', min: -1, max: 1 } }));
  b.param('running_mean', [3], { role: 'state', init: { kind: 'ones' } });
  b.output(x);
  return b.build();
}

/** Three steps of seeded gradients per trainable param, as plain numbers. */
function gradSequence(graph: Graph, steps = 3): Map<string, number[]>[] {
  const rng = new Rng(11);
  return Array.from({ length: steps }, () => {
    const m = new Map<string, number[]>();
    for (const p of graph.params) if (p.trainable) m.set(p.name, Array.from({ length: p.shape.reduce((a, c) => a * c, 1) }, () => 2 * rng.next() - 1));
    return m;
  });
}

function toTensors(g: Map<string, number[]>, graph: Graph): Map<string, tf.Tensor> {
  const shapes = new Map(graph.params.map((p) => [p.name, p.shape]));
  return new Map([...g].map(([k, v]) => [k, tf.tensor(v, shapes.get(k))]));
}

function applySteps(opt: ReturnType<typeof createOptimizer>, params: ParamStore, graph: Graph, seq: Map<string, number[]>[], lrs: number[]): void {
  seq.forEach((g, i) => {
    const grads = toTensors(g, graph);
    opt.step(grads, params, lrs[i]);
    grads.forEach((t) => t.dispose());
  });
}

/** PyTorch's update formulas in float64, one param at a time. */
function reference(config: OptimizerConfig, p0: number[], grads: number[][], lrs: number[]): number[] {
  const p = p0.slice();
  const n = p.length;
  const buf = new Array(n).fill(0);
  const m = new Array(n).fill(0);
  const v = new Array(n).fill(0);
  const [b1, b2] = config.betas ?? [0.9, 0.999];
  const eps = config.eps ?? 1e-8;
  const wd = config.weightDecay ?? (config.kind === 'adamw' ? 0.01 : 0);
  const mu = config.momentum ?? 0;
  grads.forEach((gr, s) => {
    const t = s + 1;
    const lr = lrs[s];
    for (let i = 0; i < n; i++) {
      if (config.kind === 'sgd') {
        let d = gr[i] + wd * p[i];
        if (mu) {
          buf[i] = s === 0 ? d : mu * buf[i] + d;
          d = config.nesterov ? d + mu * buf[i] : buf[i];
        }
        p[i] -= lr * d;
      } else {
        let g = gr[i];
        if (config.kind === 'adamw') p[i] *= 1 - lr * wd;
        else g += wd * p[i];
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        const mHat = m[i] / (1 - b1 ** t);
        const vHat = v[i] / (1 - b2 ** t);
        p[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
      }
    }
  });
  return p;
}

const configs: { name: string; config: OptimizerConfig }[] = [
  { name: 'plain sgd', config: { kind: 'sgd', lr: 0.1 } },
  { name: 'sgd momentum + weight decay', config: { kind: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0.05 } },
  { name: 'sgd nesterov', config: { kind: 'sgd', lr: 0.1, momentum: 0.8, nesterov: true } },
  { name: 'adam', config: { kind: 'adam', lr: 0.01, betas: [0.8, 0.95] } },
  { name: 'adam with L2', config: { kind: 'adam', lr: 0.01, weightDecay: 0.1 } },
  { name: 'adamw', config: { kind: 'adamw', lr: 0.01, weightDecay: 0.2, eps: 1e-6 } },
];

describe('optimizers', () => {
  const graph = tinyGraph();
  const lrs = [0.1, 0.05, 0.02];

  it.each(configs)('match the PyTorch formulas in float64 over three steps: $name', ({ config }) => {
    const params = ParamStore.init(graph, 3);
    const start = new Map(params.names().map((n) => [n, Array.from(params.get(n).dataSync())]));
    const seq = gradSequence(graph);
    const opt = createOptimizer(config, graph);
    applySteps(opt, params, graph, seq, lrs);
    for (const name of ['camera.backbone.w', 'lidar.head.b']) {
      expectClose(params.get(name), reference(config, start.get(name)!, seq.map((g) => g.get(name)!), lrs), 1e-6);
    }
    expect(Array.from(params.get('running_mean').dataSync())).toEqual([1, 1, 1]);
    expect(opt.getState().step).toBe(3);
    opt.dispose();
    params.dispose();
  });

  it.each(configs)('updates params jointly with exactly the values of one param at a time: $name', ({ config }) => {
    const joint = ParamStore.init(graph, 4);
    const single = ParamStore.init(graph, 4);
    const jointOpt = createOptimizer(config, graph);
    const singleOpt = createOptimizer(config, graph);
    gradSequence(graph).forEach((g, i) => {
      const grads = toTensors(g, graph);
      jointOpt.step(grads, joint, lrs[i]);
      // One gradient per call: every group holds a single param.
      for (const [name, t] of grads) singleOpt.step(new Map([[name, t]]), single, lrs[i]);
      grads.forEach((t) => t.dispose());
    });
    for (const name of ['camera.backbone.w', 'lidar.head.b']) {
      expect(Array.from(joint.get(name).dataSync())).toEqual(Array.from(single.get(name).dataSync()));
    }
    const [a, b] = [jointOpt.getState(), singleOpt.getState()];
    expect(Object.keys(a.params).sort()).toEqual(Object.keys(b.params).sort());
    for (const name of Object.keys(a.params)) {
      expect(a.params[name].step).toBe(b.params[name].step);
      for (const k of Object.keys(a.params[name].slots)) expect(Array.from(a.params[name].slots[k])).toEqual(Array.from(b.params[name].slots[k]));
    }
    [jointOpt, singleOpt, joint, single].forEach((x) => x.dispose());
  });

  it('reproduces hand-computed momentum and nesterov trajectories', () => {
    const run = (nesterov: boolean) => {
      const params = ParamStore.init(graph, 1);
      params.set('lidar.head.b', tf.ones([3]));
      const opt = createOptimizer({ kind: 'sgd', lr: 0.1, momentum: 0.9, nesterov }, graph);
      const traj: number[] = [];
      for (let i = 0; i < 3; i++) {
        const g = tf.ones([3]);
        opt.step(new Map([['lidar.head.b', g]]), params, 0.1);
        g.dispose();
        traj.push(params.get('lidar.head.b').dataSync()[0]);
      }
      opt.dispose();
      params.dispose();
      return traj;
    };
    // buf: 1, 1.9, 2.71 → p: 0.9, 0.71, 0.439; nesterov steps 1.9, 2.71, 3.439 → 0.81, 0.539, 0.1951
    expectClose(run(false), [0.9, 0.71, 0.439], 1e-6);
    expectClose(run(true), [0.81, 0.539, 0.1951], 1e-6);
  });

  it('moves every weight by lr·sign(g) on the first adam step', () => {
    const params = ParamStore.init(graph, 5);
    const before = Array.from(params.get('camera.backbone.w').dataSync());
    const g = tf.tensor([[3, -0.5, 0.01], [-7, 2, -0.2]]);
    const opt = createOptimizer({ kind: 'adam', lr: 0.01 }, graph);
    opt.step(new Map([['camera.backbone.w', g]]), params, 0.01);
    const sign = Array.from(g.dataSync()).map(Math.sign);
    expectClose(params.get('camera.backbone.w'), before.map((p, i) => p - 0.01 * sign[i]), 1e-6);
    g.dispose();
    opt.dispose();
    params.dispose();
  });

  it('counts adam bias correction per param, so a param first updated late starts at t = 1', () => {
    const params = ParamStore.init(graph, 5);
    const opt = createOptimizer({ kind: 'adam', lr: 0.01 }, graph);
    const gw = tf.ones([2, 3]);
    const gb = tf.fill([3], -2);
    opt.step(new Map([['camera.backbone.w', gw]]), params, 0.01);
    opt.step(new Map([['camera.backbone.w', gw]]), params, 0.01);
    const before = Array.from(params.get('lidar.head.b').dataSync());
    opt.step(new Map([['lidar.head.b', gb]]), params, 0.01);
    expectClose(params.get('lidar.head.b'), before.map((p) => p + 0.01), 1e-6);
    const state = opt.getState();
    expect([state.step, state.params['camera.backbone.w'].step, state.params['lidar.head.b'].step]).toEqual([3, 2, 1]);
    [gw, gb].forEach((t) => t.dispose());
    opt.dispose();
    params.dispose();
  });

  it('does not leak tensors across steps', () => {
    const params = ParamStore.init(graph, 2);
    const opt = createOptimizer({ kind: 'adamw', lr: 0.01 }, graph);
    const grads = toTensors(gradSequence(graph, 1)[0], graph);
    expectNoLeak(() => opt.step(grads, params, 0.01));
    expectNoLeak(() => opt.setState(opt.getState()));
    const before = tf.memory().numTensors;
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before - 4);
    grads.forEach((t) => t.dispose());
    params.dispose();
  });

  it('rejects gradients for unknown params, wrong shapes and bad configs with coded errors', () => {
    const params = ParamStore.init(graph, 2);
    const opt = createOptimizer({ kind: 'sgd', lr: 0.1 }, graph);
    const g = tf.zeros([4]);
    expect(() => opt.step(new Map([['nope', g]]), params, 0.1)).toThrow(/gradient for 'nope', which is not a param of graph 'tiny'/);
    expect(() => opt.step(new Map([['lidar.head.b', g]]), params, 0.1)).toThrow(/'lidar.head.b' has shape \[4\], the param is \[3\]/);
    expect(() => opt.step(new Map(), params, NaN)).toThrow(BevzipError);
    expect(() => createOptimizer({ kind: 'adam', lr: -1 }, graph)).toThrow(/optimizer config: lr/);
    expect(() => createOptimizer({ kind: 'adam', lr: 1, nesterov: true }, graph)).toThrow(/nesterov needs kind 'sgd' with momentum > 0/);
    expect(() => createOptimizer({ kind: 'sgd', lr: 1, betas: [1.5, 0.9] }, graph)).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    g.dispose();
    opt.dispose();
    params.dispose();
  });
});
