import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../builder';
import { Pipeline } from './pipeline';

describe('stage progress reaches scheduled ops on every step', () => {
  it("a grad_reverse with schedule 'dann' gets λ(step / steps) at each step of one unchanged graph", async () => {
    // loss = Σ GRL(x + w): ∂loss/∂w = −λ(p), so plain SGD with lr 1 adds λ(p_k) to w at step k.
    const b = new GraphBuilder('grl-progress');
    const x = b.input('x', [1]);
    const w = b.param('w', [1], { init: { kind: 'zeros' } });
    const y = b.op('grad_reverse', [b.op('add', [x, w])], { lambda: 0.8, schedule: 'dann', gamma: 10 });
    b.output(y);
    const graph = b.build();
    const before = tf.memory().numTensors;
    const r = await new Pipeline({
      seed: 1,
      graph,
      stages: [{ name: 's', steps: 4, data: { batch: () => ({ feeds: { x: tf.zeros([1]) } }) }, taskLoss: (o) => tf.sum(o[y]) as tf.Scalar, optimizer: { kind: 'sgd', lr: 1 } }],
    }).run();
    // p = 0, 0.25, 0.5, 0.75; 2/(1+exp(−10p)) − 1 = 0, 0.8482836399575131, 0.9866142981514305, 0.9988944427261528 (float64 by hand).
    const expected = 0.8 * (0 + 0.8482836399575131 + 0.9866142981514305 + 0.9988944427261528);
    expect(r.params.get('w').dataSync()[0]).toBeCloseTo(expected, 6);
    expect(r.graph.nodes.find((n) => n.op === 'grad_reverse')!.attrs).toEqual({ lambda: 0.8, schedule: 'dann', gamma: 10 });
    r.params.dispose();
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
  });
});
