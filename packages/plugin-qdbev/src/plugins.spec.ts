import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs';
import { Pipeline, run, type Graph, type Plugin } from '@bevzip/ir';
import { magnitudePruning, mseTaskLoss, TINY_FEATURE, TINY_OUTPUT, tinyConvGraph, tinyData } from '@bevzip/ir/testing';
import { conformance, PluginTester } from '@bevzip/plugin-tester';
import { container as root } from 'tsyringe';
import { quantTransforms, type QuantState } from './calibration';
import { register } from './index';
import { partsForStage, progressiveSchedule, qdbevQuantize } from './quantize-plugin';
import { fakeQuantPerChannel } from './quantizer';
import { qdbevDistill } from './vgd-plugin';

const tester = new PluginTester();
// tinyConvGraph: conv1 (backbone, reads the image: a first layer) → bn → relu → conv2 (head, writes the output: a last layer).
const all = { firstLayer: 'quantize', lastLayer: 'quantize' } as const;

tester.run('qdbev', qdbevQuantize, {
  valid: [
    { name: 'quantizes W4A6 with 8-bit first and last layers by default', options: {} },
    { name: 'quantizes every layer at W2A2', options: { wBits: 2, aBits: 2, ...all } },
    { name: 'calibrates with percentiles', options: { calibration: { mode: 'percentile', percentile: 99, batches: 2 } } },
    { name: 'follows a schedule that quantizes only the backbone', options: { schedule: { test: ['backbone'] } } },
  ],
  invalid: [
    { name: 'weight bits above 8', options: { wBits: 9 }, expect: { error: /option 'wBits'/ } },
    { name: 'skipping first and last layers leaves nothing', options: { firstLayer: 'skip', lastLayer: 'skip' }, expect: { error: /no conv2d\/dense layer of graph 'tiny'/ } },
    { name: 'a schedule naming an unknown part', options: { schedule: { test: ['backbone', 'bogus'] } }, expect: { error: /schedule of stage 'test' names part\(s\) bogus/ } },
  ],
});

tester.run('qdbev-vgd', qdbevDistill, {
  valid: [
    { name: 'distils a tapped image feature and a BEV-shaped output', options: { imageTap: TINY_FEATURE, bevTap: TINY_OUTPUT, temperature: 2 } },
    { name: 'takes a share of the task gradient instead of a fixed weight', options: { imageTap: TINY_FEATURE, bevTap: TINY_OUTPUT, gradientShare: 0.3 } },
  ],
  invalid: [
    { name: 'a BEV tap the graph lacks', options: { imageTap: TINY_FEATURE, bevTap: 'nowhere' }, expect: { error: /requires teacher tap 'nowhere'/ } },
  ],
});

conformance('qdbev', qdbevQuantize, { options: { wBits: 4, aBits: 4, ...all }, badOptions: [{ aBits: 1 }, { ops: [] }, { calibration: { mode: 'median' } }] });
conformance('qdbev-vgd', qdbevDistill, { options: { imageTap: TINY_FEATURE, bevTap: TINY_OUTPUT }, badOptions: [{ temperature: 0 }, { axis: 'depth' }, { gradientShare: 0 }, { gradientShare: 50 }] });

async function runTiny(graph: Graph, stages: { name: string; steps: number }[], plugins: Plugin[], seed = 3) {
  const pipeline = new Pipeline({ seed, graph, stages: stages.map((s) => ({ ...s, data: tinyData(), taskLoss: mseTaskLoss })) });
  for (const p of plugins) pipeline.use(p);
  return pipeline.run();
}

describe('qdbev in a pipeline', () => {
  it('calibrates |r_max| of each quantized activation over the calibration batches (max mode)', async () => {
    const graph = tinyConvGraph();
    let state: (QuantState & { enabled: string[] }) | undefined;
    const result = await runTiny(graph, [{ name: 'ptq', steps: 0 }], [qdbevQuantize({ ...all, calibration: { batches: 3 }, onState: (s) => (state = s) })]);
    // Reference: the float feature of the same three batches (conv1 is quantized, the feature is not yet).
    const { weights } = quantTransforms(state!, ['backbone']);
    let want = 0;
    for (let i = 0; i < 3; i++) {
      const b = tinyData().batch(i, { seed: 3, stage: 'ptq' }) as { feeds: Record<string, tf.Tensor> };
      // The batch norm was folded into conv1 when the stage started, so the run's graph has none.
      const f = run(result.graph, result.params, b.feeds, { outputs: [], taps: [TINY_FEATURE], weightTransforms: weights }).taps[TINY_FEATURE];
      want = Math.max(want, tf.max(tf.abs(f)).dataSync()[0]);
      tf.dispose([f, ...Object.values(b.feeds)]);
    }
    // The first layer's graph input and each quantized layer's output are quantized too (so ORT
    // fuses every layer); conv1's output is quantized after its ReLU, the feature.
    expect(result.graph.nodes.map((n) => n.op)).toEqual(['conv2d', 'relu', 'conv2d']);
    expect(Object.keys(state!.ranges).sort()).toEqual(['head.conv2', 'image', TINY_FEATURE].sort());
    expect(state!.plan.layers.map((l) => [l.input, l.output])).toEqual([
      ['image', TINY_FEATURE],
      [TINY_FEATURE, 'head.conv2'],
    ]);
    expect(state!.ranges[TINY_FEATURE]).toBeCloseTo(want, 6);
    expect(state!.plan.activations[TINY_FEATURE]).toMatchObject({ bits: 6, signed: false });
    expect(state!.enabled).toEqual(['backbone', 'neck', 'encoder', 'decoder']);
    result.params.dispose();
  });

  it('switches parts on cumulatively under a progressive schedule', () => {
    const schedule = progressiveSchedule(['s1', 's2', 's3', 's4', 'vgd']);
    expect(schedule).toEqual({ s1: ['backbone'], s2: ['backbone', 'neck'], s3: ['backbone', 'neck', 'encoder'], s4: ['backbone', 'neck', 'encoder', 'decoder'], vgd: ['backbone', 'neck', 'encoder', 'decoder'] });
    const parts = { backbone: ['backbone' as const], head: ['head' as const] };
    expect(partsForStage({ schedule, parts }, 's2')).toEqual(['backbone', 'neck']);
    expect(partsForStage({ schedule, parts }, 'elsewhere')).toEqual(['backbone', 'head']);
  });

  it('composes with pruning masks: pruned weights stay exactly zero after quantization', async () => {
    const graph = tinyConvGraph();
    const result = await runTiny(graph, [{ name: 'prune-qat', steps: 3 }], [magnitudePruning({ sparsity: 0.5 }), qdbevQuantize({ ...all, wBits: 3 })]);
    for (const [name, mask] of result.masks.params) {
      const m = mask.dataSync();
      // Both tiny convs keep the output channel on axis 3.
      const q = tf.tidy(() => fakeQuantPerChannel(result.params.get(name), 3, 3).dataSync());
      const zeros = Array.from(m.keys()).filter((i) => m[i] === 0);
      expect(zeros.length).toBeGreaterThan(0);
      for (const i of zeros) expect(Math.abs(q[i])).toBe(0);
    }
    result.params.dispose();
    for (const m of result.masks.params.values()) m.dispose();
  });

  it('registers the quantizer, and the distiller only when asked', () => {
    const a = root.createChildContainer();
    register(a, { quantize: { wBits: 8 } });
    const b = root.createChildContainer();
    register(b, { distill: { temperature: 2 } });
    const names = (c: typeof a) => c.resolveAll<{ name: string }>(Symbol.for('@bevzip/ir:plugin')).map((p) => p.name);
    expect(names(a)).toEqual(['qdbev']);
    expect(names(b)).toEqual(['qdbev', 'qdbev-vgd']);
  });
});
