import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { generateScene } from '@bevzip/synthetic-scenes';
import { buildBevFusion, evaluateModel, MICRO_CONFIG, taskConfigForModel, VAL_FIRST_SCENE } from '@bevzip/bev-fusion';
import { loadGraph, ParamStore, run } from '@bevzip/ir';
import { onnx } from 'onnx-proto';
import { runCompress } from './run';
import type { RunSummary } from '../report/summary';

const FIXTURES = path.join(__dirname, 'fixtures');
const graph = buildBevFusion(MICRO_CONFIG, 'fusion');
const FUSER = graph.nodes.filter((n) => n.scope.startsWith('fuser')).at(-1)!.outputs[0];
const stubSvg = async (spec: Record<string, unknown>) => `<svg xmlns="http://www.w3.org/2000/svg" data-title="${String(spec.title)}"></svg>`;

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-compress-'));
  // A project folder where the distillation fixture is installed under its package name.
  fs.mkdirSync(path.join(root, 'node_modules'));
  fs.symlinkSync(path.join(FIXTURES, 'toy-distill'), path.join(root, 'node_modules', 'toy-distill'), 'dir');
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function writePipeline(name: string, over: { prune?: string; finetune?: string; export?: string } = {}): string {
  const file = path.join(root, `${name}.yaml`);
  fs.writeFileSync(
    file,
    `name: micro prune + distil
seed: 1
model: { builder: bev-fusion, config: micro }
teacher: model
data:
  synthetic: { seed: 0, scenes: 1, framesPerScene: 2, valScenes: 1 }
stages:
  - name: prune
    steps: 0
    plugins:
      - use: ${over.prune ?? 'toy-prune'}
        options: { sparsity: 0.5 }
  - name: finetune
    steps: 3
    plugins:
      - use: ${over.finetune ?? 'toy-distill'}
        options: { tap: ${FUSER}, weight: 2 }
training: { checkpointEvery: 2 }
export: { latencyRuns: 2${over.export ?? ''} }
`,
  );
  return file;
}

// toy-prune is loaded as a plugin in development (--plugin-dev), toy-distill as an installed package.
const quiet = { cwd: '', pluginDev: [path.join(FIXTURES, 'toy-prune')], log: () => undefined, richProgress: false, render: stubSvg, quietBackend: true };

describe('bevzip compress on the micro model', () => {
  let summary: RunSummary;
  let out: string;
  let tensorsBefore: number;

  beforeAll(async () => {
    out = path.join(root, 'out');
    tensorsBefore = tf.memory().numTensors;
    summary = await runCompress({ ...quiet, cwd: root, pipeline: writePipeline('p'), out });
  }, 240_000);

  it('leaves no tensors behind', () => {
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('writes the summary, the event log, both ONNX models, the compressed model and the report', () => {
    expect(summary.artifacts).toEqual(
      expect.arrayContaining(['summary.json', 'events.jsonl', 'report.html', 'dense.onnx', 'compressed.onnx', 'compressed/graph.json', 'compressed/weights.bin']),
    );
    expect(JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(summary)));
    const steps = fs.readFileSync(path.join(out, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.type === 'step');
    expect(steps.map((e) => `${e.stage}:${e.step}`)).toEqual(['finetune:0', 'finetune:1', 'finetune:2']);
    for (const e of steps) {
      expect(Object.keys(e.losses)).toEqual(['task', 'toy-distill/l2']);
      expect(e.total).toBeCloseTo(e.losses.task + 2 * e.losses['toy-distill/l2'], 4);
    }
    expect(summary.pipeline.stages).toEqual([
      { name: 'prune', steps: 0, plugins: ['magnitude-pruning'] },
      { name: 'finetune', steps: 3, plugins: ['toy-distill'] },
    ]);
  });

  it('reports per-layer sparsity equal to a count over the saved weights, and half of every layer pruned', () => {
    const saved = loadGraph(path.join(out, 'compressed'));
    try {
      for (const layer of summary.sparsity.layers) {
        const zeros = Array.from(saved.params.get(layer.name).dataSync()).filter((v) => v === 0).length;
        expect(layer.zeros).toBe(zeros);
        expect(layer.zeros).toBeGreaterThanOrEqual(Math.floor(layer.size / 2));
      }
      const cam = summary.sparsity.modalities.find((m) => m.modality === 'camera')!;
      const camLayers = summary.sparsity.layers.filter((l) => l.modality === 'camera');
      expect(cam.zeros).toBe(camLayers.reduce((n, l) => n + l.zeros, 0));
      // The compressed row describes the exported file: every scalar of the inference graph, the
      // non-zero ones counted apart (unstructured pruning zeroes weights; the file stays dense).
      let params = 0;
      let nonZero = 0;
      for (const p of saved.graph.params) {
        const v = Array.from(saved.params.get(p.name).dataSync());
        params += v.length;
        nonZero += v.filter((x) => x !== 0).length;
      }
      const compressed = summary.models.find((m) => m.name === 'compressed')!;
      expect(compressed.params).toBe(params);
      expect(compressed.nonZero).toBe(nonZero);
      expect(compressed.onnxMB).toBeCloseTo(fs.statSync(path.join(out, 'compressed.onnx')).size / 1e6, 9);
      expect(compressed.evaluatedWith).toBe('onnxruntime');
      expect(compressed.notes).toEqual(['toy-distill: reports bit-widths only']);
      expect(summary.bitWidths.length).toBe(saved.graph.params.filter((p) => p.role === 'weight').length);
    } finally {
      saved.params.dispose();
    }
  });

  it('evaluates the dense model in onnxruntime to the same metrics as the tfjs interpreter', async () => {
    const frames = generateScene({ seed: 0, sceneIndex: VAL_FIRST_SCENE, frames: 2 });
    const cfg = taskConfigForModel(MICRO_CONFIG, 'fusion');
    const params = ParamStore.init(graph, 1);
    try {
      const ref = await evaluateModel(frames, (feeds) => run(graph, params, feeds).outputs as never, cfg);
      const dense = summary.models.find((m) => m.name === 'dense')!;
      const m = ref.presentClassMetrics ?? ref.classMetrics;
      expect(dense.mAP).toBeCloseTo(m.meanAp, 4);
      expect(dense.NDS).toBeCloseTo(m.ndScore, 4);
      expect(dense.mIoU).toBeCloseTo(ref.map!.meanIou, 4);
      expect(dense.latencyMs).toBeGreaterThan(0);
      expect(dense.onnxMB).toBeCloseTo(fs.statSync(path.join(out, 'dense.onnx')).size / 1e6, 9);
    } finally {
      params.dispose();
    }
  });

  it('bakes the camera rig into both files with export.fixedRig, with the same metrics as per-frame geometry', async () => {
    const baked = path.join(root, 'out-rig');
    const s = await runCompress({ ...quiet, cwd: root, pipeline: writePipeline('rig', { export: ', fixedRig: true' }), out: baked });
    for (const name of ['dense', 'compressed'] as const) {
      const inputs = onnx.ModelProto.decode(fs.readFileSync(path.join(baked, `${name}.onnx`))).graph!.input!.map((i) => i.name);
      expect(inputs).not.toContain('cam_bev_index');
      expect(inputs).toContain('images');
      const row = s.models.find((m) => m.name === name)!;
      const perFrame = summary.models.find((m) => m.name === name)!;
      expect(row.notes.join('\n')).toMatch(/camera rig baked in/);
      expect(row.mAP).toBeCloseTo(perFrame.mAP!, 6);
      expect(row.NDS).toBeCloseTo(perFrame.NDS!, 6);
    }
  }, 240_000);

  it('renders every report section and the metrics table', () => {
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    for (const t of ['Loss per term', 'Sparsity per modality', 'Sparsity per layer', 'Bit-width per layer', 'Accuracy vs size']) expect(html).toContain(`data-title="${t}"`);
    expect(html).toContain('<table id="metrics">');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('resumes a run cut short after step 2 to bit-identical weights', async () => {
    const cut = path.join(root, 'cut');
    fs.cpSync(out, cut, { recursive: true });
    const ckpts = fs.readdirSync(path.join(cut, 'checkpoints')).sort();
    expect(ckpts).toEqual(['step-000000', 'step-000002', 'step-000003']);
    fs.rmSync(path.join(cut, 'checkpoints', 'step-000003'), { recursive: true });
    fs.rmSync(path.join(cut, 'compressed'), { recursive: true });
    const resumed = await runCompress({ ...quiet, cwd: root, pipeline: writePipeline('p'), out: cut, resume: true });
    expect(resumed.resumedFrom).toEqual({ stage: 1, step: 2 });
    expect(fs.readFileSync(path.join(cut, 'compressed', 'weights.bin')).equals(fs.readFileSync(path.join(out, 'compressed', 'weights.bin')))).toBe(true);
    const steps = fs.readFileSync(path.join(cut, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.type === 'step');
    expect(steps.map((e) => e.step)).toEqual([0, 1, 2, 2]);
  }, 240_000);
});

describe('bevzip compress fails before any work', () => {
  it('names a missing plugin package, where the pipeline uses it (file:line:col), and the install command', async () => {
    const out = path.join(root, 'never');
    const file = writePipeline('missing', { finetune: '"@bevzip/plugin-not-installed"' });
    await expect(runCompress({ ...quiet, cwd: root, pipeline: file, out })).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: `${file}:16:14: stages[1].plugins[0].use: plugin package '@bevzip/plugin-not-installed' is not installed\n  install with: npm install '@bevzip/plugin-not-installed'`,
    });
    expect(fs.existsSync(out)).toBe(false);
  });

  it('refuses a named plugin the package does not offer at file:line:col of the field, before any work', async () => {
    const out = path.join(root, 'never');
    const file = writePipeline('unknown-named', { prune: '"@bevzip/plugin-altermoma"\n        plugin: snipp' });
    await expect(runCompress({ ...quiet, cwd: root, pipeline: file, out })).rejects.toMatchObject({
      code: 'E_CONFIG',
      message: `${file}:12:17: stages[0].plugins[0].plugin: package '@bevzip/plugin-altermoma' has no plugin 'snipp'; did you mean 'snip'? It offers: altermoma, magnitude, snip, synflow, imp, prune-kd`,
    });
    expect(fs.existsSync(out)).toBe(false);
  });

  it('reports a bad plugin option at its path in the pipeline file', async () => {
    const file = writePipeline('bad-option');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('sparsity: 0.5', 'sparsity: 2'));
    await expect(runCompress({ ...quiet, cwd: root, pipeline: file, out: path.join(root, 'never') })).rejects.toMatchObject({
      code: 'E_PLUGIN_OPTIONS',
      message: expect.stringContaining('stages[0].plugins[0].options.sparsity: Too big: expected number to be <=1'),
    });
  });
});
