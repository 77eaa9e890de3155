import * as tf from '@tensorflow/tfjs';
import { run } from '../interpreter';
import { stageProgress } from '../runtime/stage-runner';
import { expectClose, expectNoLeak, onnxParity, randomTensor, singleOpGraph } from '../testing';
import { dannRamp, gradReverseLambda } from './grad-reverse';

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

  describe("schedule 'dann'", () => {
    // λ_max = 0.8, γ = 10; hand-computed with 2/(1 + exp(−γp)) − 1 in float64:
    // p = 0.1 → 0.4621171572600098, p = 0.25 → 0.8482836399575131.
    const dann = { lambda: 0.8, schedule: 'dann', gamma: 10 } as const;
    const x = () => tf.tensor1d([1, -2, 3]);
    const w = () => tf.tensor1d([0.5, -1, 2]);
    const gradAt = (graph: ReturnType<typeof singleOpGraph>['graph'], params: ReturnType<typeof singleOpGraph>['params'], xs: tf.Tensor, ws: tf.Tensor, progress: number) =>
      tf.grad((v: tf.Tensor) => tf.sum(tf.mul(ws, run(graph, params, { x: v }, { training: true, progress }).outputs[graph.outputs[0]])))(xs);

    it('the ramp is 0 at p = 0, 2/(1+e^−5)−1 at p = 0.5 and 2/(1+e^−10)−1 at p = 1', () => {
      expect(dannRamp(0, 10)).toBe(0);
      expect(dannRamp(0.5, 10)).toBeCloseTo(0.9866142981514305, 15);
      expect(dannRamp(1, 10)).toBeCloseTo(0.9999092042625952, 15);
      expect(gradReverseLambda({ ...dann }, 0.5)).toBeCloseTo(0.8 * 0.9866142981514305, 15);
      // The constant schedule ignores the progress.
      expect(gradReverseLambda({ ...dann, schedule: 'constant' }, 0.5)).toBe(0.8);
      expect(gradReverseLambda({ ...dann, schedule: 'constant' }, undefined)).toBe(0.8);
    });

    it('one graph, two λ: identity forward and −λ(p)·g backward at p = 0.1 and p = 0.25, no rebuild', () => {
      const xs = x();
      const ws = w();
      const { graph, params } = singleOpGraph('grad_reverse', [{ name: 'x', value: xs }], dann);
      for (const progress of [0.1, 0.25]) {
        const y = run(graph, params, { x: xs }, { training: true, progress }).outputs[graph.outputs[0]];
        expectClose(y, [1, -2, 3], 0);
        y.dispose();
      }
      const g1 = gradAt(graph, params, xs, ws, 0.1);
      const g2 = gradAt(graph, params, xs, ws, 0.25);
      expectClose(g1, [-0.18484686290400393, 0.36969372580800786, -0.7393874516160157], 1e-6);
      expectClose(g2, [-0.3393134559830053, 0.6786269119660105, -1.357253823932021], 1e-6);
      // At p = 0 nothing flows back.
      const g0 = gradAt(graph, params, xs, ws, 0);
      expect(Array.from(g0.dataSync()).every((v) => v === 0)).toBe(true);
      tf.dispose([xs, ws, g0, g1, g2]);
    });

    it('keeps the tensor count flat across steps of changing λ', () => {
      const xs = x();
      const ws = w();
      const { graph, params } = singleOpGraph('grad_reverse', [{ name: 'x', value: xs }], dann);
      // One warm-up call, then the four steps of a 4-step stage.
      const seen: number[] = [];
      let step = 0;
      const before = tf.memory().numTensors;
      expectNoLeak(() => {
        const g = gradAt(graph, params, xs, ws, stageProgress(step++ % 4, 4));
        seen.push(g.dataSync()[1]);
        g.dispose();
      }, 4);
      expect(seen.slice(1)).toHaveLength(4);
      expect(new Set(seen.slice(1)).size).toBe(4);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([xs, ws]);
    });

    it('a gradient without a progress, or a progress outside [0, 1], is refused naming the node; so is γ ≤ 0', () => {
      const xs = x();
      const { graph, params } = singleOpGraph('grad_reverse', [{ name: 'x', value: xs }], dann);
      // The forward is the identity without a progress; a gradient needs one.
      const y = run(graph, params, { x: xs }).outputs[graph.outputs[0]];
      expectClose(y, [1, -2, 3], 0);
      y.dispose();
      expect(() => tf.grad((v: tf.Tensor) => tf.sum(run(graph, params, { x: v }).outputs[graph.outputs[0]]))(xs)).toThrow(/node '.*' \(op grad_reverse\): schedule 'dann' needs the training progress; run the graph with RunOptions.progress/);
      expect(() => run(graph, params, { x: xs }, { progress: 1.5 })).toThrow(/progress must be a number in \[0, 1\], got 1.5/);
      expect(() => singleOpGraph('grad_reverse', [{ name: 'x', value: xs }], { ...dann, gamma: 0 })).toThrow(/gamma/);
      xs.dispose();
    });

    it('exports as Identity whatever the schedule', async () => {
      const xs = randomTensor([2, 3], 9, 1);
      const { graph, params, feeds } = singleOpGraph('grad_reverse', [{ name: 'x', value: xs }], dann);
      expect(await onnxParity(graph, params, feeds)).toBe(0);
      xs.dispose();
    });
  });

  it('stage progress is the fraction of the stage done before the step', () => {
    expect([0, 1, 2, 3].map((s) => stageProgress(s, 4))).toEqual([0, 0.25, 0.5, 0.75]);
  });
});
