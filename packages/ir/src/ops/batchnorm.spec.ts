import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../builder';
import { run } from '../interpreter';
import { ParamStore } from '../params';
import {
  checkGradients,
  expectClose,
  expectNoLeak,
  onnxParity,
  randomTensor,
  singleOpGraph,
  type OpCaseInput,
} from '../testing';

/** Params for C channels: gamma, beta, running mean and a positive running variance. */
function stats(c: number, seed: number): OpCaseInput[] {
  return [
    { name: 'gamma', value: randomTensor([c], seed), param: true },
    { name: 'beta', value: randomTensor([c], seed + 1), param: true },
    { name: 'mean', value: randomTensor([c], seed + 2), param: true },
    { name: 'var', value: tf.tidy(() => tf.add(randomTensor([c], seed + 3), 1.5)), param: true },
  ];
}

/** Eval-mode batch norm over the last axis in float64. */
function evalRef(x: tf.Tensor, [g, b, m, v]: tf.Tensor[], eps: number): number[] {
  const c = x.shape[x.rank - 1];
  const [gd, bd, md, vd] = [g, b, m, v].map((t) => t.dataSync());
  return Array.from(
    x.dataSync(),
    (val, i) => ((val - md[i % c]) / Math.sqrt(vd[i % c] + eps)) * gd[i % c] + bd[i % c],
  );
}

/** Channel 0 holds 1, 2, 3, 6 and channel 1 holds −2, −1, 0, 3: both have biased variance 3.5. */
const handX = tf.tensor4d([1, -2, 2, -1, 3, 0, 6, 3], [2, 1, 2, 2]);
const handStats = [tf.tensor1d([2, 0.5]), tf.tensor1d([1, -1]), tf.tensor1d([0, 1]), tf.tensor1d([1, 2])];
const handGraph = () =>
  singleOpGraph(
    'batchnorm',
    [
      { name: 'x', value: handX },
      ...['gamma', 'beta', 'mean', 'var'].map((name, i) => ({ name, value: handStats[i], param: true })),
    ],
    { eps: 0.5, momentum: 0.1 },
  );

describe('batchnorm', () => {
  it('normalises with batch statistics in training mode (hand-computed)', () => {
    const { graph, params, feeds } = handGraph();
    const y = run(graph, params, feeds, { training: true }).outputs[graph.outputs[0]];
    // √(3.5 + 0.5) = 2: channel 0 → (x − 3)/2·2 + 1, channel 1 → (x − 0)/2·0.5 − 1.
    expectClose(y, [-1, -1.5, 0, -1.25, 1, -1, 4, -0.25], 1e-6);
  });

  it('returns PyTorch-style running statistics in state when run with training=true (hand-computed)', () => {
    const { graph, params, feeds } = handGraph();
    const { state } = run(graph, params, feeds, { training: true });
    expect(Object.keys(state).sort()).toEqual(['mean', 'var']);
    // 0.9·old + 0.1·batch, the variance unbiased: 14/3 for both channels.
    expectClose(state.mean, [0.3, 0.9], 1e-6);
    expectClose(state.var, [0.9 + 1.4 / 3, 1.8 + 1.4 / 3], 1e-6);
    expect(run(graph, params, feeds).state).toEqual({});
  });

  it.each([[[3, 5, 4, 3]], [[6, 3]], [[2, 5, 3]]])(
    'uses running statistics in eval mode like a direct computation and onnxruntime, x %j',
    async (shape) => {
      const x = randomTensor(shape, 1, 2);
      const c = shape[shape.length - 1];
      const s = stats(c, 2);
      const { graph, params, feeds } = singleOpGraph('batchnorm', [{ name: 'x', value: x }, ...s], {
        eps: 1e-3,
      });
      const y = run(graph, params, feeds).outputs[graph.outputs[0]];
      expectClose(
        y,
        evalRef(
          x,
          s.map((p) => p.value),
          1e-3,
        ),
        1e-5,
      );
      expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
    },
  );

  it('keeps an unknown batch dimension, and a trained graph exports its running statistics', async () => {
    const g = new GraphBuilder('batch');
    const p = (n: string) => g.param(n, [3], { role: n.includes('running') ? 'state' : 'norm' });
    const y = g.op('batchnorm', [
      g.input('x', [-1, 4, 4, 3]),
      p('gamma'),
      p('beta'),
      p('running_mean'),
      p('running_var'),
    ]);
    g.output(y);
    const graph = g.build();
    expect(graph.values[y].shape).toEqual([-1, 4, 4, 3]);
    const params = ParamStore.fromTensors(
      graph,
      new Map(stats(3, 5).map((s, i) => [['gamma', 'beta', 'running_mean', 'running_var'][i], s.value])),
    );
    const feeds = { x: randomTensor([2, 4, 4, 3], 6) };
    const { state } = run(graph, params, feeds, { training: true });
    for (const [name, value] of Object.entries(state)) params.get(name).assign(value);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
  });

  it.each([true, false])('has gradients that agree with finite differences (training %s)', (training) => {
    const x = randomTensor([3, 2, 2, 2], 3, 2);
    const s = stats(2, 4);
    const { graph, params } = singleOpGraph('batchnorm', [
      { name: 'x', value: x },
      ...s.map((p) => ({ ...p, param: false })),
    ]);
    const weights = randomTensor([3, 2, 2, 2], 9);
    checkGradients(
      (xi, gi, bi) =>
        run(graph, params, { x: xi, gamma: gi, beta: bi, mean: s[2].value, var: s[3].value }, { training })
          .outputs[graph.outputs[0]].mul(weights)
          .sum() as tf.Scalar,
      [x, s[0].value, s[1].value],
    );
  });

  it('rejects statistics of the wrong length, naming the node and the input', () => {
    const s = stats(3, 1);
    expect(() => singleOpGraph('batchnorm', [{ name: 'x', value: tf.zeros([2, 4]) }, ...s])).toThrow(
      /node 'batchnorm'.*gamma length does not match the 4 channels/,
    );
  });

  it('refuses to train on one value per channel, as the variance would be undefined', () => {
    const { graph, params, feeds } = singleOpGraph('batchnorm', [
      { name: 'x', value: tf.ones([1, 3]) },
      ...stats(3, 1),
    ]);
    expect(() => run(graph, params, feeds, { training: true })).toThrow(
      /node 'batchnorm'.*more than one value per channel/,
    );
  });

  it('keeps the tensor count flat across training runs', () => {
    const { graph, params, feeds } = singleOpGraph('batchnorm', [
      { name: 'x', value: randomTensor([4, 3], 1) },
      ...stats(3, 2),
    ]);
    expectNoLeak(() => {
      const r = run(graph, params, feeds, { training: true });
      [...Object.values(r.outputs), ...Object.values(r.state)].forEach((t) => t.dispose());
    });
  });
});
