import * as tf from '@tensorflow/tfjs';
import { run } from '../interpreter';
import {
  checkGradients,
  expectClose,
  expectNoLeak,
  onnxParity,
  randomTensor,
  singleOpGraph,
} from '../testing';

/** erf by its Maclaurin series, exact to ~1e-12 in float64 for |x| ≤ 3. */
function erf(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 80; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const reference = {
  none: (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
  tanh: (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
};

describe.each(['none', 'tanh'] as const)('gelu (approximate %s)', (approximate) => {
  it('matches a direct float64 computation, and onnxruntime both decomposed (opset 17) and native (opset 20)', async () => {
    const x = randomTensor([2, 4, 6], 1, 3);
    const { graph, params, feeds } = singleOpGraph('gelu', [{ name: 'x', value: x }], { approximate });
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expectClose(y, Array.from(x.dataSync(), reference[approximate]), 1e-5);
    expect(await onnxParity(graph, params, feeds)).toBeLessThanOrEqual(1e-4);
    expect(await onnxParity(graph, params, feeds, { opset: 20, irVersion: 9 })).toBeLessThanOrEqual(1e-4);
  });

  it('has a gradient that agrees with finite differences', () => {
    const x = randomTensor([3, 5], 2, 3);
    const weights = randomTensor([3, 5], 3);
    const { graph, params } = singleOpGraph('gelu', [{ name: 'x', value: x }], { approximate });
    checkGradients(
      (xi) => run(graph, params, { x: xi }).outputs[graph.outputs[0]].mul(weights).sum() as tf.Scalar,
      [x],
    );
  });

  it('keeps the tensor count flat across runs', () => {
    const { graph, params, feeds } = singleOpGraph('gelu', [{ name: 'x', value: randomTensor([4], 1) }], {
      approximate,
    });
    expectNoLeak(() => {
      const r = run(graph, params, feeds);
      Object.values(r.outputs).forEach((t) => t.dispose());
    });
  });
});

describe('gelu', () => {
  it('rejects an unknown approximation, naming the attribute', () => {
    expect(() =>
      singleOpGraph('gelu', [{ name: 'x', value: tf.zeros([2]) }], { approximate: 'sigmoid' }),
    ).toThrow(/node 'gelu'.*attrs\.approximate/);
  });
});
