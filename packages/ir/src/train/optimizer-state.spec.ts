import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../builder';
import type { Graph } from '../graph';
import { ParamStore } from '../params';
import { randomTensor } from '../testing';
import { createOptimizer, type OptimizerConfig } from './optimizer';

function graph(): Graph {
  const b = new GraphBuilder('state');
  const x = b.input('x', [1]);
  b.param('a', [3, 2]);
  b.param('b', [4], { role: 'bias' });
  b.output(x);
  return b.build();
}

function gradsAt(step: number): Map<string, tf.Tensor> {
  return new Map([
    ['a', randomTensor([3, 2], 100 + step)],
    ['b', randomTensor([4], 200 + step)],
  ]);
}

function stepWith(opt: ReturnType<typeof createOptimizer>, params: ParamStore, step: number): void {
  const g = gradsAt(step);
  opt.step(g, params, 0.05 / (step + 1));
  g.forEach((t) => t.dispose());
}

describe('optimizer state', () => {
  const g = graph();
  const configs: OptimizerConfig[] = [
    { kind: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 },
    { kind: 'adam', lr: 0.05 },
    { kind: 'adamw', lr: 0.05, weightDecay: 0.1 },
  ];

  it.each(configs)('restored after two steps gives a third step bit-equal to an uninterrupted run ($kind)', (config) => {
    const straight = ParamStore.init(g, 9);
    const o1 = createOptimizer(config, g);
    for (let s = 0; s < 3; s++) stepWith(o1, straight, s);

    const resumed = ParamStore.init(g, 9);
    const o2 = createOptimizer(config, g);
    for (let s = 0; s < 2; s++) stepWith(o2, resumed, s);
    const saved = structuredClone(o2.getState());
    const weights = resumed.clone();
    o2.dispose();
    resumed.dispose();

    const o3 = createOptimizer(config, g);
    o3.setState(saved);
    stepWith(o3, weights, 2);
    for (const n of ['a', 'b']) expect(Array.from(weights.get(n).dataSync())).toEqual(Array.from(straight.get(n).dataSync()));
    const [s1, s3] = [o1.getState(), o3.getState()];
    expect(s3.step).toBe(3);
    for (const n of ['a', 'b']) for (const k of Object.keys(s1.params[n].slots)) expect(s3.params[n].slots[k]).toEqual(s1.params[n].slots[k]);
    [o1, o3].forEach((o) => o.dispose());
    [straight, weights].forEach((p) => p.dispose());
  });

  it('hands out copies, so mutating a returned state does not touch the optimizer', () => {
    const params = ParamStore.init(g, 1);
    const opt = createOptimizer({ kind: 'adam', lr: 0.1 }, g);
    stepWith(opt, params, 0);
    const s = opt.getState();
    const first = s.params.a.slots.exp_avg[0];
    s.params.a.slots.exp_avg[0] = 123;
    expect(opt.getState().params.a.slots.exp_avg[0]).toBe(first);
    opt.dispose();
    params.dispose();
  });

  it('refuses a state of another kind, unknown params, missing slots or wrong sizes, naming the culprit', () => {
    const opt = createOptimizer({ kind: 'adam', lr: 0.1 }, g);
    const ok = { exp_avg: new Float32Array(6), exp_avg_sq: new Float32Array(6) };
    expect(() => opt.setState({ kind: 'sgd', step: 1, params: {} })).toThrow(/saved by a 'sgd' optimizer, this one is 'adam'/);
    expect(() => opt.setState({ kind: 'adam', step: 1, params: { zz: { step: 1, slots: ok } } })).toThrow(/moments for 'zz', which is not a param/);
    expect(() => opt.setState({ kind: 'adam', step: 1, params: { a: { step: 1, slots: { exp_avg: ok.exp_avg } } } })).toThrow(/param 'a': slots \[exp_avg\] but a adam optimizer keeps \[exp_avg,exp_avg_sq\]/);
    expect(() => opt.setState({ kind: 'adam', step: 1, params: { b: { step: 1, slots: ok } } })).toThrow(/param 'b' slot 'exp_avg': expected a Float32Array of 4 values, got 6/);
    expect(() => opt.setState({ kind: 'adam', step: -1, params: {} })).toThrow(expect.objectContaining({ code: 'E_CHECKPOINT' }));
    opt.dispose();
  });
});
