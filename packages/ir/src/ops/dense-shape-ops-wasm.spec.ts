import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backends/select-backend';
import { computeOn, relativeError, seededUniform } from '../backends/testing/compare-backends';
import type { Attrs } from '../graph';
import { run } from '../interpreter';
import { singleOpGraph } from '../testing';

interface Case {
  op: string;
  shapes: number[][];
  attrs?: Attrs;
  outputs?: number;
  training?: boolean;
  /** How many leading inputs to differentiate (running statistics only feed the state). */
  differentiable?: number;
}

const cases: Case[] = [
  { op: 'dense', shapes: [[2, 3, 5], [5, 4], [4]] },
  {
    op: 'matmul',
    shapes: [
      [2, 1, 4, 3],
      [3, 5, 4],
    ],
    attrs: { transposeA: true, transposeB: true },
  },
  { op: 'batchnorm', shapes: [[2, 3, 3, 4], [4], [4], [4], [4]], training: true, differentiable: 3 },
  { op: 'batchnorm', shapes: [[5, 4], [4], [4], [4], [4]], differentiable: 3 },
  { op: 'layernorm', shapes: [[3, 6], [6], [6]] },
  { op: 'relu', shapes: [[4, 5]] },
  { op: 'sigmoid', shapes: [[4, 5]] },
  { op: 'tanh', shapes: [[4, 5]] },
  { op: 'gelu', shapes: [[4, 5]] },
  { op: 'gelu', shapes: [[4, 5]], attrs: { approximate: 'tanh' } },
  { op: 'softmax', shapes: [[3, 4, 5]], attrs: { axis: 1 } },
  {
    op: 'add',
    shapes: [
      [2, 3, 4],
      [3, 1],
    ],
  },
  { op: 'sub', shapes: [[2, 3, 4], [4]] },
  {
    op: 'mul',
    shapes: [
      [2, 3, 4],
      [3, 1],
    ],
  },
  {
    op: 'div',
    shapes: [
      [2, 3, 4],
      [3, 1],
    ],
  },
  { op: 'scale', shapes: [[3, 4]], attrs: { factor: 0.25 } },
  {
    op: 'concat',
    shapes: [
      [2, 3],
      [2, 2],
    ],
    attrs: { axis: 1 },
  },
  { op: 'split', shapes: [[2, 5]], attrs: { sizes: [2, 3] }, outputs: 2 },
  { op: 'reshape', shapes: [[2, 3, 4]], attrs: { shape: [0, -1] } },
  { op: 'transpose', shapes: [[2, 3, 4]], attrs: { perm: [2, 0, 1] } },
  { op: 'slice', shapes: [[3, 4, 2]], attrs: { begin: [1, 1], size: [-1, 2] } },
  { op: 'flatten', shapes: [[2, 3, 4]] },
  { op: 'reduce_sum', shapes: [[2, 3, 4]], attrs: { axes: [0, 2] } },
  { op: 'reduce_mean', shapes: [[2, 3, 4]], attrs: { axes: [-1], keepDims: true } },
];

/** Inputs in ±[0.5, 1.5) (clear of zero for div and of relu's kink); variance-like slots positive. */
function inputValue(c: Case, i: number): tf.Tensor {
  const shape = c.shapes[i];
  const raw = seededUniform(
    shape.reduce((a, b) => a * b, 1),
    31 * i + c.op.length,
  );
  const data = raw.map((v) => (c.op === 'batchnorm' && i === 4 ? 1 + Math.abs(v) : Math.sign(v) * 0.5 + v));
  return tf.tensor(data, shape);
}

/** Outputs, new state and the gradients of Σ_k Σ y_k·r_k with respect to every input. */
function outputsAndGradients(c: Case): tf.Tensor[] {
  const inputs = c.shapes.map((_, i) => inputValue(c, i));
  const { graph, params } = singleOpGraph(
    c.op,
    inputs.map((value, i) => ({ name: `in${i}`, value })),
    c.attrs ?? {},
    c.outputs ?? 1,
  );
  const forward = (...xs: tf.Tensor[]) =>
    run(graph, params, Object.fromEntries(xs.map((x, i) => [`in${i}`, x])), { training: c.training });
  const result = forward(...inputs);
  const outs = graph.outputs.map((o) => result.outputs[o]);
  const weights = outs.map((y, k) => tf.tensor(seededUniform(y.size, 100 + k), y.shape));
  const n = c.differentiable ?? inputs.length;
  const loss = (...xs: tf.Tensor[]) => {
    const ys = graph.outputs.map((o) => forward(...xs, ...inputs.slice(n)).outputs[o]);
    return tf.addN(ys.map((y, k) => tf.sum(tf.mul(y, weights[k])))) as tf.Scalar;
  };
  return [...outs, ...Object.values(result.state), ...tf.grads(loss)(inputs.slice(0, n))];
}

describe('dense, element-wise, shape and normalisation ops on wasm', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', quiet: true });
  });

  const titled = cases.map(
    (c) => [`${c.op} ${JSON.stringify(c.attrs ?? {})}${c.training ? ' in training' : ''}`, c] as const,
  );
  it.each(titled)('%s computes the same outputs, state and gradients as cpu', async (_, c) => {
    const cpu = await computeOn('cpu', () => outputsAndGradients(c));
    const wasm = await computeOn('wasm', () => outputsAndGradients(c));
    expect(wasm.shapes).toEqual(cpu.shapes);
    cpu.values.forEach((ref, k) => expect(relativeError(wasm.values[k], ref)).toBeLessThanOrEqual(1e-5));
  });
});
