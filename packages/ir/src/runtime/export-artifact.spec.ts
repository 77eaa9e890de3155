import * as tf from '@tensorflow/tfjs';
import { onnx } from 'onnx-proto';
import { z } from 'zod';
import { run } from '../interpreter';
import { createOrtSession, runOrt } from '../onnx/ort';
import { foldBatchNorm } from '../passes/fold-batchnorm';
import type { ExportArtifact, ExportContext } from './hooks';
import { Pipeline } from './pipeline';
import { definePlugin } from './plugin';
import { magnitudePruning } from './testing/example-plugins';
import { mseTaskLoss, tinyConvGraph, tinyData } from './testing/tiny-pipeline';

const graph = tinyConvGraph();
/** Two stages; by default pruning is active in the first, the export plugins in both. */
const stagesOf = (active: (string[] | undefined)[] = [['magnitude-pruning', 'fold', 'int8-weights'], ['fold', 'int8-weights']]) =>
  active.map((plugins, i) => ({ name: ['prune', 'tune'][i], steps: 2 - i, data: tinyData(), taskLoss: mseTaskLoss, plugins }));

/** What each export hook saw, in call order. */
let seen: { plugin: string; nodes: string[]; stage: string; masks: number; opset: number }[] = [];
const record = (plugin: string, a: ExportArtifact, ctx: ExportContext<unknown>) => seen.push({ plugin, nodes: a.graph.nodes.map((n) => n.op), stage: ctx.stage.name, masks: ctx.masks.params.size, opset: ctx.opset });

/** A graph pass: folds batch norm into the conv before it. */
const fold = definePlugin({
  name: 'fold',
  version: '0.0.1',
  apiVersion: '^1.0.0',
  description: 'folds batch norm at export',
  options: z.object({}),
  hooks: () => ({
    export: (a, ctx) => {
      record('fold', a, ctx);
      return { ...foldBatchNorm(a.graph, a.params), report: { summary: 'folded 1 batch norm' } };
    },
  }),
});

/** An ONNX rewrite: the listed weights as int8 codes with one scale (a stand-in for a quantizer). */
const int8Weights = (name: string, claims: (param: string) => boolean) =>
  definePlugin({
    name,
    version: '0.0.1',
    apiVersion: '^1.0.0',
    description: 'int8 weights at export',
    options: z.object({}),
    hooks: () => ({
      export: (a, ctx) => {
        record(name, a, ctx);
        return {
          onnx: {
            paramHook: ({ name: param, data, dims, builder }) => {
              if (!claims(param)) return undefined;
              const scale = Math.max(...Array.from(data, Math.abs)) / 127 || 1;
              const q = builder.constant(Array.from(data, (v) => Math.round(v / scale)), dims, 'int8', `${param}_int8`);
              const out = builder.temp(`${param}_dq_by_${name}`);
              builder.add('DequantizeLinear', [q, builder.constant([scale], [], 'float32'), builder.constant([0], [], 'int8')], [out]);
              return out;
            },
          },
          report: { summary: `int8 by ${name}`, data: { scheme: 'per-tensor' } },
        };
      },
    }),
  });

async function exported(plugins = [magnitudePruning({ sparsity: 0.5 }), fold({}), int8Weights('int8-weights', (p) => p.endsWith('.weight'))({})], active?: (string[] | undefined)[]) {
  const pipeline = new Pipeline({ seed: 2, graph, stages: stagesOf(active), export: { opset: 17 } });
  for (const p of plugins) pipeline.use(p);
  return pipeline.run();
}

describe('the export hook and the run artifact', () => {
  beforeEach(() => (seen = []));

  it('applies graph passes in plugin order, composes ONNX rewrites, and writes a file that computes the masked, folded model', async () => {
    const result = await exported();
    expect(seen.map((s) => s.plugin)).toEqual(['fold', 'int8-weights']);
    // The plugin after the folding pass sees the folded graph; each sees its last active stage and the held masks.
    expect(seen[0].nodes).toContain('batchnorm');
    expect(seen[1].nodes).not.toContain('batchnorm');
    expect(seen.map((s) => [s.stage, s.masks, s.opset])).toEqual([
      ['tune', 2, 17],
      ['tune', 2, 17],
    ]);
    const artifact = result.artifact!;
    expect(artifact.reports).toEqual([
      { plugin: 'fold', summary: 'folded 1 batch norm' },
      { plugin: 'int8-weights', summary: 'int8 by int8-weights', data: { scheme: 'per-tensor' } },
    ]);
    expect(artifact.graph.nodes.map((n) => n.op)).toEqual(['conv2d', 'relu', 'conv2d']);
    const model = onnx.ModelProto.decode(artifact.onnx);
    const inits = model.graph!.initializer!.map((t) => t.name);
    expect(inits).toEqual(expect.arrayContaining([expect.stringMatching(/^camera\.backbone\.conv1\.weight_int8/), expect.stringMatching(/^head\.conv2\.weight_int8/)]));
    expect(inits.filter((n) => n === 'camera.backbone.conv1.weight' || n === 'head.conv2.weight')).toEqual([]);
    // Half of each weight is pruned (masks multiplied in); biases and the folded bias are dense.
    const weights = 3 * 3 * 2 * 4 + 3 * 3 * 4 * 2;
    expect(artifact.params.total).toBe(weights + 4 + 2);
    expect(artifact.params.nonZero).toBeLessThanOrEqual(weights / 2 + 6);

    // Reference: the trained weights, masked, folded, run by the interpreter; ORT within int8 rounding.
    const masked = result.params.clone();
    for (const [n, m] of result.masks.params) {
      const v = tf.mul(masked.get(n), m);
      masked.set(n, v);
      v.dispose();
    }
    const folded = foldBatchNorm(graph, masked);
    const feeds = { image: tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 4) };
    const ref = run(folded.graph, folded.params, feeds);
    const session = await createOrtSession(artifact.onnx);
    const got = await runOrt(session, feeds);
    const want = ref.outputs[graph.outputs[0]].dataSync();
    const range = Math.max(...Array.from(want, Math.abs));
    const worst = Math.max(...Array.from(want, (v, i) => Math.abs(v - got[graph.outputs[0]].data[i])));
    expect(worst / range).toBeLessThan(0.03);
    expect(worst).toBeGreaterThan(0); // the int8 rewrite was applied, not a float copy
    await session.release();
    tf.dispose([...Object.values(ref.outputs), feeds.image]);
    for (const s of [masked, folded.params, result.params]) s.dispose();
    for (const m of result.masks.params.values()) m.dispose();
  });

  it('lets the first plugin that handles a tensor write it', async () => {
    const first = int8Weights('first', (p) => p === 'head.conv2.weight');
    const second = int8Weights('second', () => true);
    const result = await exported([first({}), second({})], [undefined, undefined]);
    const names = onnx.ModelProto.decode(result.artifact!.onnx).graph!.node!.flatMap((n) => n.output!);
    expect(names.some((n) => n.startsWith('head.conv2.weight_dq_by_first'))).toBe(true);
    expect(names.some((n) => n.startsWith('head.conv2.weight_dq_by_second'))).toBe(false);
    expect(names.some((n) => n.startsWith('camera.backbone.conv1.weight_dq_by_second'))).toBe(true);
    result.params.dispose();
  });

  it('skips plugins active in no stage, leaks no tensors, and names a contribution that lacks its params', async () => {
    const idle = int8Weights('idle', () => true);
    const warm = await exported([magnitudePruning({ sparsity: 0.5 }), fold({}), int8Weights('int8-weights', () => false)({}), idle({})], undefined);
    expect(seen.map((s) => s.plugin)).not.toContain('idle');
    warm.params.dispose();
    for (const m of warm.masks.params.values()) m.dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      const r = await exported();
      r.params.dispose();
      for (const m of r.masks.params.values()) m.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);

    const broken = definePlugin({
      name: 'broken',
      version: '0.0.1',
      apiVersion: '^1.0.0',
      description: 'returns a graph without params',
      options: z.object({}),
      hooks: () => ({ export: (a) => ({ graph: a.graph }) }),
    });
    const pipeline = new Pipeline({ seed: 2, graph, stages: [{ name: 's', steps: 1, data: tinyData(), taskLoss: mseTaskLoss }], export: {} });
    pipeline.use(broken({}));
    await expect(pipeline.run()).rejects.toMatchObject({ code: 'E_PLUGIN_HOOK', message: expect.stringContaining("plugin 'broken' hook 'export': a rewritten graph comes with its params") });
    expect(tf.memory().numTensors).toBe(before);
  });
});
