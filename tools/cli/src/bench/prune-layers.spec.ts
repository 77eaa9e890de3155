import * as tf from '@tensorflow/tfjs';
import { CommanderError } from 'commander';
import { BevzipError, ParamStore, run, sizeOf, type Batch } from '@bevzip/ir';
import { buildBevFusion, frameDataSource, MICRO_CONFIG, syntheticFrames, taskConfigForModel } from '@bevzip/bev-fusion';
import { pipelineTaskLoss } from '../pipeline/data';
import { createProgram } from '../program';
import { analyzePruneLayers, layerSensitivity, lossProbe, magnitudeMask, spearman, type PruneLayersBenchOptions } from './prune-layers';

// The micro BEVFusion layout with random weights: the teacher's layer structure at unit-test cost.
const graph = buildBevFusion(MICRO_CONFIG, 'fusion');
const cfg = taskConfigForModel(MICRO_CONFIG, 'fusion');
const options: PruneLayersBenchOptions = {
  teacher: 'random:micro',
  sparsity: 0.5,
  methods: ['magnitude', 'snip'],
  batchSize: 2,
  trainScenes: 2,
  lossBatches: 2,
  within: 'magnitude',
  seed: 0,
  log: () => undefined,
};

describe('spearman', () => {
  it('matches hand-computed cases, ties at their mean rank', () => {
    // d = (−1, 1, −1, 1, 0): 1 − 6·4 / (5·24) = 0.8.
    expect(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])).toBeCloseTo(0.8, 12);
    // Ranks (1, 2.5, 2.5, 4) and (1, 3, 2, 4): 4.5 / √(4.5·5) = 3/√10.
    expect(spearman([10, 20, 20, 30], [1, 3, 2, 4])).toBeCloseTo(3 / Math.sqrt(10), 12);
    // Monotone transforms do not change ranks.
    expect(spearman([0.1, 5, 2], [-3, -100, -50])).toBeCloseTo(-1, 12);
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
  });

  it('rejects series of different lengths', () => {
    expect(() => spearman([1, 2], [1, 2, 3])).toThrow(BevzipError);
  });
});

describe('magnitudeMask', () => {
  it('zeroes exactly the given number of smallest |w|, the earlier of a tie kept', () => {
    const w = tf.tensor([0.3, -0.1, 0.5, -0.05, 0.2, 0.1], [2, 3]);
    const m = magnitudeMask(w, 3);
    const tie = tf.tensor([0.1, -0.1], [2]);
    const t = magnitudeMask(tie, 1);
    expect(m.shape).toEqual([2, 3]);
    expect(Array.from(m.dataSync())).toEqual([1, 0, 1, 0, 1, 0]);
    expect(Array.from(t.dataSync())).toEqual([1, 0]);
    tf.dispose([w, m, tie, t]);
  });
});

describe('layer sensitivity', () => {
  it('is exactly 0 at 0%, and equals the loss with the smallest weights zeroed by hand', async () => {
    const params = ParamStore.init(graph, 0);
    const frames = syntheticFrames(0, 5, 2, 2);
    const probe = await lossProbe(graph, params, frames, cfg, { batchSize: 2, batches: 2, seed: 0 });
    const before = tf.memory().numTensors;
    const dense = probe.loss();
    const layer = 'decoder.backbone.blocks.0.0.conv.weight';
    expect(layerSensitivity(probe, params, layer, dense, { pruned: 0 })).toBe(0);

    // Reference: a copy of the params with the 40% smallest |w| of the layer set to zero, run directly.
    const w = params.get(layer);
    const pruned = Math.round(0.4 * w.size);
    const host = Float32Array.from(w.dataSync());
    const order = Array.from(host.keys()).sort((a, b) => Math.abs(host[a]) - Math.abs(host[b]) || b - a);
    for (const i of order.slice(0, pruned)) host[i] = 0;
    const copy = params.clone();
    const zeroed = tf.tensor(host, w.shape);
    copy.set(layer, zeroed);
    zeroed.dispose();
    const source = frameDataSource(frames, cfg, 2, 0);
    let total = 0;
    for (let b = 0; b < 2; b++) {
      const batch: Batch = await source.batch(b, { seed: 0, stage: 'loss' });
      total += tf.tidy(() => pipelineTaskLoss(cfg)(run(graph, copy, batch.feeds).outputs, batch).dataSync()[0]);
      Object.values(batch.feeds).forEach((t) => t.dispose());
    }
    copy.dispose();
    const s = layerSensitivity(probe, params, layer, dense, { pruned });
    expect(s).not.toBe(0);
    expect(s).toBeCloseTo(total / 2 - dense, 5);
    expect(tf.memory().numTensors).toBe(before);
    probe.dispose();
    params.dispose();
  });
});

describe('loss terms', () => {
  it('split the total, and a map-head layer costs the detection terms exactly nothing', async () => {
    const params = ParamStore.init(graph, 0);
    const frames = syntheticFrames(0, 5, 1, 2);
    const o = { batchSize: 2, batches: 1, seed: 0 };
    const [total, detection, map] = await Promise.all(
      (['total', 'detection', 'map'] as const).map((term) => lossProbe(graph, params, frames, cfg, { ...o, term })),
    );
    const before = tf.memory().numTensors;
    const t = total.terms();
    expect(t.heatmap + t.reg + t.map).toBeCloseTo(t.total, 5);
    expect(total.loss()).toBe(t.total);
    expect(detection.loss()).toBe(t.heatmap + t.reg);
    expect(map.loss()).toBe(t.map);
    const layer = 'heads.map.classifier.conv.weight';
    const all = { pruned: params.get(layer).size };
    expect(layerSensitivity(detection, params, layer, detection.loss(), all)).toBe(0);
    expect(layerSensitivity(map, params, layer, map.loss(), all)).not.toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    [total, detection, map].forEach((p) => p.dispose());
    params.dispose();
  });
});

describe('analyzePruneLayers', () => {
  it('per-layer sparsities add up (by size) to the global sparsity, masks and loss batches freed', async () => {
    const params = ParamStore.init(graph, 0);
    const before = tf.memory().numTensors;
    const r = await analyzePruneLayers(graph, params, cfg, options);
    expect(tf.memory().numTensors).toBe(before);

    const sizes = r.layers.map((l) => l.size);
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(r.layers.map((l) => l.name)).toEqual(graph.params.filter((p) => p.trainable && p.role === 'weight' && p.shape.length >= 2).map((p) => p.name));
    expect(r.layers.every((l, i) => l.size === sizeOf(graph.params.find((p) => p.name === r.layers[i].name)!.shape))).toBe(true);
    expect(r.criteria.map((c) => c.method)).toEqual(['magnitude', 'snip']);
    expect(r.denseLoss).toBe(r.denseTerms.total);
    for (const c of r.criteria) {
      const removed = c.layerSparsity.reduce((n, s, i) => n + s * sizes[i], 0);
      // The criteria prune exactly round(ρ·N) weights.
      expect(Math.round(removed)).toBe(Math.round(0.5 * total));
      expect(c.sparsity).toBeCloseTo(Math.round(0.5 * total) / total, 12);
      expect(c.sensitivity).toHaveLength(r.layers.length);
      expect(c.spearmanReference).toBeCloseTo(spearman(c.layerSparsity, r.referenceSensitivity), 12);
      // A layer the criterion left dense costs nothing.
      c.layerSparsity.forEach((s, i) => s === 0 && expect(c.sensitivity[i]).toBe(0));
      expect(c.loss).not.toBe(r.denseLoss);
    }
    // Different criteria spread the same budget differently.
    expect(r.criteria[0].layerSparsity).not.toEqual(r.criteria[1].layerSparsity);
    // Params are untouched: a second run finds the same dense loss and the same masks.
    const again = await analyzePruneLayers(graph, params, cfg, { ...options, methods: ['magnitude'], within: 'own' });
    expect(again.denseLoss).toBe(r.denseLoss);
    expect(again.criteria[0].layerSparsity).toEqual(r.criteria[0].layerSparsity);
    expect(again.criteria[0].loss).toBe(r.criteria[0].loss);
    // Global magnitude restricted to one layer is that layer's own magnitude order.
    again.criteria[0].sensitivity.forEach((s, i) => expect(s).toBeCloseTo(r.criteria[0].sensitivity[i], 5));
    expect(tf.memory().numTensors).toBe(before);
    params.dispose();
  });

  it('rejects a sparsity outside (0, 1) naming the option', async () => {
    const params = ParamStore.init(graph, 0);
    await expect(analyzePruneLayers(graph, params, cfg, { ...options, sparsity: 1.5 })).rejects.toThrow(/options\.sparsity/);
    params.dispose();
  });
});

describe('bevzip bench prune-layers options', () => {
  it('rejects a bad --within, --sparsity or --methods before any work, naming the option', async () => {
    const bad = [
      ['--within', 'random', /--within.*Allowed choices are magnitude, own/],
      ['--sparsity', '1', /--sparsity.*expected a number in \(0, 1\), got '1'/],
      ['--reference-level', '-0.1', /--reference-level.*expected a number in \[0, 1\]/],
      ['--methods', 'snip,lottery', /--methods.*unknown value\(s\) lottery/],
      ['--loss-term', 'nds', /--loss-term.*Allowed choices are total, detection, map/],
    ] as const;
    for (const [flag, value, message] of bad) {
      let out = '';
      const p = createProgram();
      const quiet = (c: ReturnType<typeof createProgram>) => {
        c.exitOverride().configureOutput({ writeOut: (s) => void (out += s), writeErr: (s) => void (out += s) });
        c.commands.forEach(quiet);
      };
      quiet(p);
      await expect(p.parseAsync(['node', 'bevzip', 'bench', 'prune-layers', flag, value])).rejects.toThrow(CommanderError);
      expect(out.replace(/\s+/g, ' ')).toMatch(message);
    }
  });
});
