import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { loadPipelineFile } from './load-file';
import { instantiatePlugins, pluginLookup } from './plugins';
import { runCompress } from './run';

const EXAMPLES = path.resolve(__dirname, '..', '..', '..', '..', 'examples');
const files = fs.readdirSync(EXAMPLES).filter((f) => /\.(json|ya?ml)$/.test(f)).sort();

describe('example pipelines', () => {
  it('cover each method and their combination', () => {
    expect(files).toEqual(expect.arrayContaining(['altermoma.yaml', 'altermoma-kd.yaml', 'qdbev.yaml', 'altermoma-qdbev.yaml', 'unidistill-altermoma-qdbev.yaml', 'micro-smoke.json']));
  });

  it.each(files)('%s validates against the pipeline schema and its plugins’ option schemas', (file) => {
    const loaded = loadPipelineFile(path.join(EXAMPLES, file));
    const { driver, stagePlugins } = instantiatePlugins(loaded.pipeline, pluginLookup(EXAMPLES));
    const plugins = driver.registered;
    expect(plugins.length).toBeGreaterThan(0);
    expect(stagePlugins.length).toBe(loaded.pipeline.stages.length);
  });

  it('QD-BEV listed with the same options in every QAT stage is one quantizer and one distiller', () => {
    const loaded = loadPipelineFile(path.join(EXAMPLES, 'altermoma-qdbev.yaml'));
    const { driver, stagePlugins } = instantiatePlugins(loaded.pipeline, pluginLookup(EXAMPLES));
    const plugins = driver.registered;
    expect(plugins.map((p) => p.name)).toEqual(['altermoma', 'qdbev', 'qdbev-vgd']);
    expect(stagePlugins).toEqual([['altermoma'], ...Array(4).fill(['qdbev', 'qdbev-vgd'])]);
  });

  it('UniDistill listed in the distillation and pruning stages is one distiller, beside AlterMOMA and QD-BEV', () => {
    const loaded = loadPipelineFile(path.join(EXAMPLES, 'unidistill-altermoma-qdbev.yaml'));
    const { driver, stagePlugins } = instantiatePlugins(loaded.pipeline, pluginLookup(EXAMPLES));
    expect(driver.registered.map((p) => p.name)).toEqual(['unidistill', 'altermoma', 'qdbev']);
    expect(stagePlugins).toEqual([['unidistill'], ['altermoma', 'unidistill'], ['qdbev']]);
  });

  it('VeXKD listed with the same options in every stage is one distiller beside AlterMOMA and QD-BEV', () => {
    const loaded = loadPipelineFile(path.join(EXAMPLES, 'vexkd-altermoma-qdbev.yaml'));
    const { driver, stagePlugins } = instantiatePlugins(loaded.pipeline, pluginLookup(EXAMPLES));
    expect(driver.registered.map((p) => p.name)).toEqual(['vexkd', 'altermoma', 'qdbev']);
    expect(stagePlugins).toEqual([['vexkd'], ['altermoma', 'vexkd'], ['qdbev', 'vexkd']]);
  });

  it('AlterMOMA and prune-kd, two named plugins of one package, are both active in the fine-tune stage', () => {
    const loaded = loadPipelineFile(path.join(EXAMPLES, 'altermoma-kd.yaml'));
    const { driver, stagePlugins } = instantiatePlugins(loaded.pipeline, pluginLookup(EXAMPLES));
    expect(driver.registered.map((p) => [p.name, p.rawOptions])).toEqual([
      ['altermoma', { sparsity: 0.8, scoringBatches: 2, reactivationSteps: 8 }],
      ['prune-kd', { outputs: ['heatmap'], gradientShare: 0.5 }],
    ]);
    expect(stagePlugins).toEqual([['altermoma', 'prune-kd']]);
  });

  it('altermoma-kd.yaml, scaled down to the micro model, runs end to end: pruned by AlterMOMA while prune-kd distils', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-example-kd-'));
    try {
      // The example as written, on the micro model, less data and a few steps.
      const example = parseYaml(fs.readFileSync(path.join(EXAMPLES, 'altermoma-kd.yaml'), 'utf8'));
      const [stage] = example.stages;
      stage.steps = 4;
      stage.plugins[0].options = { ...stage.plugins[0].options, scoringBatches: 1, reactivationSteps: 2 };
      const file = path.join(dir, 'altermoma-kd-micro.json');
      fs.writeFileSync(file, JSON.stringify({ ...example, model: { builder: 'bev-fusion', config: 'micro' }, data: { synthetic: { seed: 0, scenes: 2, framesPerScene: 2, valScenes: 1 } }, export: { latencyRuns: 1, report: false } }));
      const out = path.join(dir, 'out');
      const summary = await runCompress({ pipeline: file, out, cwd: EXAMPLES, log: () => undefined, richProgress: false, quietBackend: true, render: async () => '<svg></svg>' });
      expect(summary.pipeline.stages).toEqual([{ name: 'prune-finetune', steps: 4, plugins: ['altermoma', 'prune-kd'] }]);
      expect(summary.sparsity.total.zeros / summary.sparsity.total.size).toBeGreaterThan(0.75);
      const events = fs.readFileSync(path.join(out, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const steps = events.filter((e) => e.type === 'step');
      expect(steps).toHaveLength(4);
      for (const e of steps) expect(e.losses['prune-kd/heatmap']).toBeGreaterThan(0);
      // The weight gradientShare turned into at the first step, reported as a metric.
      expect(events.some((e) => e.type === 'metric' && e.name === 'weight/prune-kd/heatmap' && e.value > 0)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);

  it('micro-smoke.json runs end to end with the real plugins: half the weights pruned, weights quantized to at most 8 bits', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-example-'));
    try {
      const summary = await runCompress({ pipeline: path.join(EXAMPLES, 'micro-smoke.json'), out, cwd: EXAMPLES, log: () => undefined, richProgress: false, quietBackend: true, render: async () => '<svg></svg>' });
      const [dense, compressed] = summary.models;
      expect(summary.sparsity.total.zeros / summary.sparsity.total.size).toBeGreaterThanOrEqual(0.45);
      expect(compressed.nonZero).toBeLessThan(dense.nonZero * 0.6);
      expect(summary.bitWidths.filter((b) => b.kind === 'weight').every((b) => b.bits <= 8)).toBe(true);
      expect(summary.bitWidths.length).toBeGreaterThan(0);
      // W8 weights are int8 initializers; on a model this small, node and value names are a third of the file.
      expect(compressed.onnxMB).toBeLessThan(dense.onnxMB * 0.4);
      expect(compressed.notes.some((n) => n.startsWith('qdbev: QDQ:'))).toBe(true);
      expect(compressed.notes.some((n) => n.startsWith('altermoma: unstructured:'))).toBe(true);
      for (const m of summary.models) for (const k of ['mAP', 'NDS', 'mIoU'] as const) expect(m[k]).toEqual(expect.any(Number));
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});
