import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../builder';
import type { Graph } from '../graph';
import { ParamStore } from '../params';
import { expectClose } from '../testing';
import { createOptimizer } from './optimizer';
import { resolveParamSettings } from './param-groups';

function groupedGraph(): Graph {
  const b = new GraphBuilder('grouped');
  const x = b.input('x', [1, 2]);
  b.scoped('camera.backbone', { modality: 'camera', stage: 'backbone' }, () => {
    b.param('conv.weight', [2]);
    b.param('conv.bias', [2], { role: 'bias' });
  });
  b.scoped('lidar.backbone', { modality: 'lidar', stage: 'backbone' }, () => b.param('conv.weight', [2]));
  b.scoped('fusion.head', { modality: 'fusion', stage: 'head' }, () => b.param('cls.weight', [2]));
  b.param('frozen_by_graph', [2], { trainable: false });
  b.output(x);
  return b.build();
}

describe('param groups', () => {
  const graph = groupedGraph();

  it('resolve each param to the first matching group, by tags, scope or predicate', () => {
    const s = resolveParamSettings(
      {
        kind: 'adamw',
        lr: 1,
        weightDecay: 0.3,
        groups: [
          { selector: (name, def) => def.role === 'bias', weightDecay: 0 },
          { selector: { modality: 'camera' }, lr: 0.1 },
          { selector: { scope: 'lidar' }, frozen: true },
        ],
      },
      graph,
    );
    const row = (n: string) => {
      const r = s.get(n)!;
      return [r.group, r.lrScale, r.weightDecay, r.update];
    };
    expect(row('camera.backbone.conv.bias')).toEqual([0, 1, 0, true]);
    expect(row('camera.backbone.conv.weight')).toEqual([1, 0.1, 0.3, true]);
    expect(row('lidar.backbone.conv.weight')).toEqual([2, 1, 0.3, false]);
    expect(row('fusion.head.cls.weight')).toEqual([-1, 1, 0.3, true]);
    expect(row('frozen_by_graph')).toEqual([-1, 1, 0.3, false]);
  });

  it('leave frozen groups and non-trainable params bit-unchanged, scale lr by the multiplier and keep no state for skipped params', () => {
    const params = ParamStore.init(graph, 4);
    const before = new Map(params.names().map((n) => [n, Array.from(params.get(n).dataSync())]));
    const opt = createOptimizer({ kind: 'sgd', lr: 0.5, groups: [{ selector: { modality: 'camera' }, lr: 0.25 }, { selector: { modality: 'lidar' }, frozen: true }] }, graph);
    const g = tf.tensor([1, -2]);
    const grads = new Map(graph.params.map((p) => [p.name, g]));
    opt.step(grads, params, 0.5);
    const moved = (n: string, lr: number) => expectClose(params.get(n), before.get(n)!.map((v, i) => v - lr * [1, -2][i]), 1e-6);
    moved('camera.backbone.conv.weight', 0.125);
    moved('camera.backbone.conv.bias', 0.125);
    moved('fusion.head.cls.weight', 0.5);
    expect(Array.from(params.get('lidar.backbone.conv.weight').dataSync())).toEqual(before.get('lidar.backbone.conv.weight'));
    expect(Array.from(params.get('frozen_by_graph').dataSync())).toEqual(before.get('frozen_by_graph'));
    g.dispose();
    opt.dispose();
    params.dispose();
  });

  it('apply a group weight decay as an absolute value (decoupled for adamw)', () => {
    const params = ParamStore.init(graph, 4);
    const w0 = Array.from(params.get('fusion.head.cls.weight').dataSync());
    const b0 = Array.from(params.get('camera.backbone.conv.bias').dataSync());
    const opt = createOptimizer({ kind: 'adamw', lr: 0.1, weightDecay: 0.5, groups: [{ selector: { modality: 'fusion' }, weightDecay: 0.2 }] }, graph);
    // A zero gradient leaves Adam's step at 0/(0+ε) = 0, isolating the decay p·(1 − lr·wd).
    const z = tf.zeros([2]);
    opt.step(new Map([['fusion.head.cls.weight', z], ['camera.backbone.conv.bias', z]]), params, 0.1);
    expectClose(params.get('fusion.head.cls.weight'), w0.map((v) => v * (1 - 0.1 * 0.2)), 1e-7);
    expectClose(params.get('camera.backbone.conv.bias'), b0.map((v) => v * (1 - 0.1 * 0.5)), 1e-7);
    z.dispose();
    opt.dispose();
    params.dispose();
  });
});
