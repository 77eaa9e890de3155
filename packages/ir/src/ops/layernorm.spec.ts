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
} from '../testing';

/** Layer norm over the last axis in float64, biased variance. */
function layernormRef(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): number[] {
  const c = x.shape[x.rank - 1];
  const [xd, gd, bd] = [x.dataSync(), g.dataSync(), b.dataSync()];
  const out: number[] = [];
  for (let r = 0; r < xd.length / c; r++) {
    const row = Array.from(xd.subarray(r * c, (r + 1) * c));
    const mean = row.reduce((s, v) => s + v, 0) / c;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / c;
    row.forEach((v, i) => out.push(((v - mean) / Math.sqrt(variance + eps)) * gd[i] + bd[i]));
  }
  return out;
}

const caseInputs = (shape: number[], seed: number) => {
  const c = shape[shape.length - 1];
  return [
    { name: 'x', value: randomTensor(shape, seed, 3) },
    { name: 'gamma', value: randomTensor([c], seed + 1), param: true },
    { name: 'beta', value: randomTensor([c], seed + 2), param: true },
  ];
};

describe('layernorm', () => {
  it.each([[[4, 6]], [[2, 3, 5]], [[7]]])(
    'matches a direct computation, and onnxruntime at opsets 17 (native) and 13 (decomposed), x %j',
    async (shape) => {
      const inputs = caseInputs(shape, 1);
      const { graph, params, feeds } = singleOpGraph('layernorm', inputs, { eps: 1e-3 });
      const y = run(graph, params, feeds).outputs[graph.outputs[0]];
      expect(y.shape).toEqual(shape);
      expectClose(y, layernormRef(inputs[0].value, inputs[1].value, inputs[2].value, 1e-3), 1e-5);
      expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
      expect(await onnxParity(graph, params, feeds, { opset: 13 })).toBeLessThanOrEqual(1e-4);
      expect(await onnxParity(graph, params, feeds, { opset: 18 })).toBeLessThanOrEqual(1e-4);
    },
  );

  it('keeps an unknown batch dimension', async () => {
    const g = new GraphBuilder('batch');
    const y = g.op('layernorm', [
      g.input('x', [-1, 3, 8]),
      g.param('gamma', [8], { role: 'norm' }),
      g.param('beta', [8], { role: 'norm' }),
    ]);
    g.output(y);
    const graph = g.build();
    expect(graph.values[y].shape).toEqual([-1, 3, 8]);
    const params = ParamStore.fromTensors(
      graph,
      new Map([
        ['gamma', randomTensor([8], 1)],
        ['beta', randomTensor([8], 2)],
      ]),
    );
    expect(
      await onnxParity(graph, params, { x: randomTensor([2, 3, 8], 3) }, { opset: 13 }),
    ).toBeLessThanOrEqual(1e-4);
  });

  it('has gradients for x, gamma and beta that agree with finite differences', () => {
    const [x, g, b] = caseInputs([3, 5], 4).map((i) => i.value);
    const { graph, params } = singleOpGraph('layernorm', [
      { name: 'x', value: x },
      { name: 'gamma', value: g },
      { name: 'beta', value: b },
    ]);
    const weights = randomTensor([3, 5], 8);
    checkGradients(
      (xi, gi, bi) =>
        run(graph, params, { x: xi, gamma: gi, beta: bi })
          .outputs[graph.outputs[0]].mul(weights)
          .sum() as tf.Scalar,
      [x, g, b],
    );
  });

  it('rejects a gamma that does not match the last axis, naming the node', () => {
    expect(() =>
      singleOpGraph('layernorm', [
        { name: 'x', value: tf.zeros([2, 4]) },
        { name: 'gamma', value: tf.ones([3]), param: true },
        { name: 'beta', value: tf.zeros([4]), param: true },
      ]),
    ).toThrow(/node 'layernorm'.*gamma length does not match the last axis of x \[2,4\]/);
  });

  it('keeps the tensor count flat across runs', () => {
    const { graph, params, feeds } = singleOpGraph('layernorm', caseInputs([2, 4], 1));
    expectNoLeak(() => {
      const r = run(graph, params, feeds);
      Object.values(r.outputs).forEach((t) => t.dispose());
    });
  });
});
