import * as tf from '@tensorflow/tfjs';
import { run } from '../interpreter';
import { expectClose, expectNoLeak, onnxParity, randomTensor, singleOpGraph } from '../testing';

describe('grad_reverse', () => {
  it('is the identity forward (also in onnxruntime)', async () => {
    const x = randomTensor([2, 3, 4], 7, 2);
    const { graph, params, feeds } = singleOpGraph('grad_reverse', [{ name: 'x', value: x }], { lambda: 0.3 });
    const y = run(graph, params, feeds).outputs[graph.outputs[0]];
    expectClose(y, Array.from(x.dataSync()), 0);
    expect(await onnxParity(graph, params, feeds)).toBe(0);
    tf.dispose([x, y]);
  });

  it('negates and scales the gradient by λ', () => {
    const x = randomTensor([3, 5], 3, 1);
    const w = randomTensor([3, 5], 4, 1);
    const { graph, params } = singleOpGraph('grad_reverse', [{ name: 'x', value: x }], { lambda: 0.25 });
    // d/dx Σ w·GRL(x) = −λ·w, against d/dx Σ w·x = w without the op.
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(w, run(graph, params, { x: v }).outputs[graph.outputs[0]])))(x);
    expectClose(g, Array.from(w.dataSync(), (v) => -0.25 * v), 1e-7);
    tf.dispose([x, w, g]);
  });

  it('passes λ = 0 as a zero gradient, rejects a negative λ and leaks nothing', () => {
    const x = randomTensor([4], 5, 1);
    const zero = singleOpGraph('grad_reverse', [{ name: 'x', value: x }], { lambda: 0 });
    const g = tf.grad((v: tf.Tensor) => tf.sum(run(zero.graph, zero.params, { x: v }).outputs[zero.graph.outputs[0]]))(x);
    expect(Array.from(g.dataSync()).every((v) => v === 0)).toBe(true);
    g.dispose();
    expect(() => singleOpGraph('grad_reverse', [{ name: 'x', value: x }], { lambda: -1 })).toThrow(/lambda/);
    expectNoLeak(() => {
      const r = tf.grad((v: tf.Tensor) => tf.sum(run(zero.graph, zero.params, { x: v }).outputs[zero.graph.outputs[0]]))(x);
      r.dispose();
    });
    x.dispose();
  });
});
