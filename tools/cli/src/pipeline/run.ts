import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { frameDataSource, taskConfigForModel } from '@bevzip/bev-fusion';
import { exportOnnx, initBackend, Pipeline, Rng, type StepContext, saveGraph, serializeGraph, stripTrainOnly, type BackendChoice, type Graph, type ParamStore } from '@bevzip/ir';
import * as tf from '@tensorflow/tfjs';
import { writeReport, type SvgRenderer } from '../report/write-report';
import { EVENTS_FILE, REPORT_FILE, SUMMARY_FILE, type ModelRow, type RunSummary } from '../report/summary';
import { loadFrames, pipelineTaskLoss } from './data';
import { scoreInterpreter, scoreOnnx } from './evaluate';
import { loadPipelineFile } from './load-file';
import { loadModelRef, type LoadedModel } from './model-ref';
import { instantiatePlugins, pluginLookup } from './plugins';
import { appendJsonLines, attachProgress } from './progress-lines';
import type { PipelineFile } from './schema';
import { expandOptions, runtimeStages } from './stages';
import { quantizedBitWidths, QuantizerProbe, type FinalQuantizers } from './quant-probe';
import { bitWidthsOf, modelSize, sparsityOf, type BitWidth } from './stats';

/** Options of {@link runCompress}. */
export interface CompressOptions {
  /** The pipeline file (JSON or YAML). */
  pipeline: string;
  /** Output folder; default `bevzip-out`. */
  out?: string;
  /** Continue from the newest checkpoint in `<out>/checkpoints`. */
  resume?: boolean;
  /** Where plugin packages are looked up first; default `process.cwd()`. */
  cwd?: string;
  /** Development folders of plugins (`--plugin-dev`), loaded for the package names their package.json gives. */
  pluginDev?: string[];
  /** Progress and log lines; default stdout. */
  log?: (line: string) => void;
  /** Use the CLI's progress renderer when present (default true). */
  richProgress?: boolean;
  /** SVG renderer for the report's charts (default vega-lite). */
  render?: SvgRenderer;
  /** Training backend (default: `BEVZIP_BACKEND`, else the fastest available); printed once unless `quietBackend`. */
  backend?: BackendChoice;
  quietBackend?: boolean;
}

const CHECKPOINTS = 'checkpoints';

function withOptions(pipeline: PipelineFile, out: string): PipelineFile {
  const vars = { out };
  return { ...pipeline, stages: pipeline.stages.map((s) => ({ ...s, plugins: s.plugins.map((p) => ({ ...p, options: expandOptions(p.options, vars) as Record<string, unknown> })) })) };
}

function listFiles(dir: string, under = ''): string[] {
  return fs.readdirSync(path.join(dir, under), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(under, e.name);
    if (e.isDirectory()) return rel === CHECKPOINTS ? [] : listFiles(dir, rel);
    return [rel];
  });
}

async function exportAndScore(
  name: ModelRow['name'],
  model: { graph: Graph; params: ParamStore; masks?: ReadonlyMap<string, tf.Tensor>; bits?: BitWidth[]; quant?: FinalQuantizers },
  ctx: { out: string; pipeline: PipelineFile; val: Parameters<typeof scoreOnnx>[1]; task: Parameters<typeof scoreOnnx>[2]; log: (l: string) => void },
): Promise<ModelRow> {
  const graph = stripTrainOnly(model.graph);
  const size = modelSize(graph, model.params, model.masks, model.bits ?? []);
  const row: ModelRow = { name, mAP: null, NDS: null, mIoU: null, params: size.params, sizeMB: size.bytes / 1e6, onnxMB: null, latencyMs: null, evaluatedWith: null };
  if (!ctx.pipeline.export.onnx && !ctx.pipeline.export.evaluate) return row;
  // Quantized weights are exported as their fake-quantized float values, so ONNX computes what training saw.
  const baked = bakeWeights(model.params, model.quant);
  let onnx: Uint8Array;
  try {
    onnx = exportOnnx(graph, baked ?? model.params, { masks: model.masks, producer: 'bevzip' });
  } finally {
    baked?.dispose();
  }
  row.onnxMB = onnx.byteLength / 1e6;
  if (ctx.pipeline.export.onnx) fs.writeFileSync(path.join(ctx.out, `${name}.onnx`), onnx);
  if (ctx.pipeline.export.evaluate) {
    ctx.log(`evaluating ${name} in onnxruntime on ${ctx.val.length} held-out frames`);
    const s = await scoreOnnx(onnx, ctx.val, ctx.task, { latencyRuns: ctx.pipeline.export.latencyRuns });
    const finite = (v: number) => (Number.isFinite(v) ? v : null);
    Object.assign(row, { mAP: finite(s.mAP), NDS: finite(s.NDS), mIoU: finite(s.mIoU), latencyMs: finite(s.latencyMs), evaluatedWith: 'onnxruntime' });
    if (model.quant && model.quant.activations.size > 0) {
      ctx.log(`evaluating ${name} again in the tfjs interpreter: its ${model.quant.activations.size} quantized activations have no ONNX form here`);
      const options = { masks: model.masks, weightTransforms: model.quant.weights, activationTransforms: model.quant.activations };
      const t = await scoreInterpreter({ graph: model.graph, params: model.params, options }, ctx.val, ctx.task);
      Object.assign(row, { mAP: finite(t.mAP), NDS: finite(t.NDS), mIoU: finite(t.mIoU), evaluatedWith: 'tfjs interpreter (fake-quant activations); latency from onnxruntime' });
    }
  }
  return row;
}

/** A copy of the weights with each quantizer's weight transform applied, or undefined when there are none. */
function bakeWeights(params: ParamStore, quant: FinalQuantizers | undefined): ParamStore | undefined {
  if (!quant || quant.weights.size === 0) return undefined;
  const copy = params.clone();
  for (const [name, t] of quant.weights) {
    if (!copy.has(name)) continue;
    const q = tf.tidy(() => t(params.get(name)));
    copy.set(name, q, copy.get(name).trainable);
    q.dispose();
  }
  return copy;
}

/**
 * What a checkpoint must match to be resumed: the resolved pipeline (seed, model ref and modality,
 * teacher, data, stages with plugin options, training settings but the checkpoint interval) and a
 * hash of the starting weights and graph.
 */
function runFingerprint(pipeline: PipelineFile, dense: LoadedModel): Record<string, unknown> {
  const { json, weights } = serializeGraph(dense.graph, dense.params, 'weights.bin');
  const hash = crypto.createHash('sha256').update(json).update(weights ?? new Uint8Array()).digest('hex');
  const { checkpointEvery: _every, ...training } = pipeline.training;
  return JSON.parse(JSON.stringify({ seed: pipeline.seed, model: pipeline.model, modality: dense.modality, modelSha256: hash, teacher: pipeline.teacher, data: pipeline.data, stages: pipeline.stages, training }));
}

/**
 * Runs a pipeline file end to end: validates it, loads the plugin packages it names (failing
 * before any work when one is missing), builds or loads the model and teacher, trains the stages
 * with checkpoints in `<out>/checkpoints`, exports dense and compressed models to ONNX, evaluates
 * both in onnxruntime, and writes `summary.json`, `events.jsonl` and `report.html`.
 */
export async function runCompress(options: CompressOptions): Promise<RunSummary> {
  const started = Date.now();
  const log = options.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const out = path.resolve(options.out ?? 'bevzip-out');
  const loaded = loadPipelineFile(options.pipeline);
  const pipeline = withOptions(loaded.pipeline, out);
  const { plugins, stagePlugins, packages } = instantiatePlugins(pipeline, pluginLookup(options.cwd ?? process.cwd(), options.pluginDev));
  for (const m of packages.values()) if (m.dev) log(`plugin ${m.name} ${m.version}: loaded from the development folder ${m.dir} (--plugin-dev)`);
  await initBackend({ backend: options.backend, quiet: options.quietBackend });
  const dense: LoadedModel = loadModelRef(pipeline.model, { seed: pipeline.seed, baseDir: loaded.dir, field: 'model' });
  const owned: ParamStore[] = [dense.params];
  const warnings: string[] = [];
  try {
    let teacher: LoadedModel | undefined;
    if (pipeline.teacher === 'model') teacher = dense;
    else if (pipeline.teacher) owned.push((teacher = loadModelRef(pipeline.teacher, { seed: pipeline.seed, baseDir: loaded.dir, field: 'teacher' })).params);
    fs.mkdirSync(out, { recursive: true });
    const checkpoints = path.join(out, CHECKPOINTS);
    if (!options.resume && fs.existsSync(checkpoints)) {
      log(`removing the checkpoints of an earlier run in ${checkpoints} (pass --resume to continue it)`);
      fs.rmSync(checkpoints, { recursive: true, force: true });
    }
    log(`model ${dense.source} (${dense.config.name}, ${dense.modality})${teacher ? `; teacher ${teacher === dense ? 'the starting model' : teacher.source}` : ''}`);
    const frames = loadFrames(pipeline.data, { baseDir: loaded.dir, onScene: (d, t) => log(`data: scene ${d}/${t}`) });
    log(`data: ${frames.description}`);
    const task = taskConfigForModel(dense.config, dense.modality);
    const run = new Pipeline({
      seed: pipeline.seed,
      graph: dense.graph,
      params: dense.params,
      stages: runtimeStages(pipeline, { data: frameDataSource(frames.train, task, pipeline.data.batchSize), taskLoss: pipelineTaskLoss(task), teacher, stagePlugins }),
      checkpoint: { dir: checkpoints, every: pipeline.training.checkpointEvery, resume: options.resume ? 'required' : false, fingerprint: runFingerprint(pipeline, dense) },
    });
    const probe = new QuantizerProbe();
    for (const p of plugins) run.use(probe.wrap(p));
    const log$ = appendJsonLines(run.events, path.join(out, EVENTS_FILE), options.resume ?? false);
    const stopProgress = attachProgress(run.events, log, options.richProgress ?? true);
    run.events.subscribe((e) => e.type === 'warning' && warnings.push(`[${e.code}] ${e.message}`));
    let result: Awaited<ReturnType<Pipeline['run']>>;
    try {
      result = await run.run();
    } finally {
      stopProgress();
      log$.unsubscribe();
    }
    owned.push(result.params);
    try {
      saveGraph(path.join(out, 'compressed'), result.graph, result.params);
      const ctx = { out, pipeline, val: frames.val, task, log };
      const lastStage = (plugin: string) => stagePlugins.reduce((at, names, i) => (names.includes(plugin) ? i : at), -1);
      const quant = probe.finalTransforms((plugin, pluginOptions): StepContext<unknown> | undefined => {
        const i = lastStage(plugin);
        if (i < 0) return undefined;
        const stage = { name: pipeline.stages[i].name, index: i, steps: pipeline.stages[i].steps };
        const warn = (m: string) => warnings.push(`[${plugin}] ${m}`);
        return { options: pluginOptions, rng: Rng.derive(pipeline.seed, `export:${plugin}`), seed: pipeline.seed, warn, stage, graph: result.graph, params: result.params, step: stage.steps, scores: new Map() };
      });
      const declared = bitWidthsOf(result.graph);
      const known = new Set(declared.map((b) => `${b.kind}:${b.name}`));
      const bitWidths = [...declared, ...quantizedBitWidths(quant, result.graph, result.params).filter((b) => !known.has(`${b.kind}:${b.name}`))];
      const models = [await exportAndScore('dense', dense, ctx), await exportAndScore('compressed', { ...result, masks: result.masks.params, bits: bitWidths, quant }, ctx)];
      const summary: RunSummary = {
        format: 'bevzip-summary',
        version: 1,
        pipeline: { file: loaded.file, name: pipeline.name, text: loaded.text, stages: pipeline.stages.map((s, i) => ({ name: s.name, steps: s.steps, plugins: stagePlugins[i] })) },
        model: dense.source,
        teacher: teacher && (teacher === dense ? 'model' : teacher.source),
        data: frames.description,
        seed: pipeline.seed,
        startedAt: new Date(started).toISOString(),
        seconds: 0,
        resumedFrom: result.resumedFrom,
        models,
        sparsity: sparsityOf(result.graph, result.params, result.masks.params),
        bitWidths,
        artifacts: [],
        warnings,
      };
      const written = [...listFiles(out), SUMMARY_FILE, ...(pipeline.export.report ? [REPORT_FILE] : [])];
      summary.artifacts = [...new Set(written)].sort();
      summary.seconds = (Date.now() - started) / 1000;
      fs.writeFileSync(path.join(out, SUMMARY_FILE), JSON.stringify(summary, null, 2) + '\n');
      if (pipeline.export.report) log(`report: ${await writeReport(out, { render: options.render })}`);
      return summary;
    } finally {
      for (const m of [...result.masks.params.values(), ...result.masks.features.values()]) m.dispose();
    }
  } finally {
    for (const p of owned) p.dispose();
  }
}
