import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPipelineFile } from './load-file';
import { instantiatePlugins, pluginLookup } from './plugins';
import { runCompress } from './run';

const EXAMPLES = path.resolve(__dirname, '..', '..', '..', '..', 'examples');
const files = fs.readdirSync(EXAMPLES).filter((f) => /\.(json|ya?ml)$/.test(f)).sort();

describe('example pipelines', () => {
  it('cover each method and their combination', () => {
    expect(files).toEqual(expect.arrayContaining(['altermoma.yaml', 'qdbev.yaml', 'altermoma-qdbev.yaml', 'unidistill-altermoma-qdbev.yaml', 'micro-smoke.json']));
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
