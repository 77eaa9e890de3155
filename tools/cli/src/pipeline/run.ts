import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { disposeBatch, fixedRigInputs, frameDataSource, makeBatch, taskConfigForModel } from '@bevzip/bev-fusion';
import { BevzipError, ERROR_CODES, exportOnnx, initBackend, Pipeline, saveGraph, serializeGraph, stripTrainOnly, type BackendChoice, type Graph, type ParamStore } from '@bevzip/ir';
import { writeReport, type SvgRenderer } from '../report/write-report';
import { EVENTS_FILE, REPORT_FILE, SUMMARY_FILE, type ModelRow, type RunSummary } from '../report/summary';
import { loadFrames, pipelineTaskLoss } from './data';
import { interleavedOrtLatencies, scoreOnnx } from './evaluate';
import { loadPipelineFile } from './load-file';
import { loadModelRef, type LoadedModel } from './model-ref';
import { batchWarnings, implausibleSettings } from './sanity';
import { instantiatePlugins, pluginLookup } from './plugins';
import { checkOutDir, LOCK_FILE, replaceDirAtomic, takeOutDir, writeFileAtomic } from './out-dir';
import { appendJsonLines, attachProgress } from './progress-lines';
import type { PipelineFile } from './schema';
import { expandOptions, runtimeStages } from './stages';
import { sparsityOf } from './stats';

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
  /** Aborting it stops the run at the next step boundary, with a checkpoint to resume from (E_INTERRUPTED). */
  signal?: AbortSignal;
  /** Training backend (default: `BEVZIP_BACKEND`, else the fastest available); printed once unless `quietBackend`. */
  backend?: BackendChoice;
  quietBackend?: boolean;
}

const CHECKPOINTS = 'checkpoints';
/** ONNX opset of both exported files. */
const ONNX_OPSET = 17;

function withOptions(pipeline: PipelineFile, out: string): PipelineFile {
  const vars = { out };
  return { ...pipeline, stages: pipeline.stages.map((s) => ({ ...s, plugins: s.plugins.map((p) => ({ ...p, options: expandOptions(p.options, vars) as Record<string, unknown> })) })) };
}

function listFiles(dir: string, under = ''): string[] {
  return fs.readdirSync(path.join(dir, under), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(under, e.name);
    if (e.isDirectory()) return rel === CHECKPOINTS ? [] : listFiles(dir, rel);
    return rel === LOCK_FILE ? [] : [rel];
  });
}

/** A model file to write, evaluate and describe as one row of the results table. */
interface ModelFile {
  onnx: Uint8Array;
  params: { total: number; nonZero: number };
  /** What the plugins did to it (empty for the dense model). */
  notes: string[];
}

/** Writes `<name>.onnx` (when asked) and evaluates exactly that file in onnxruntime (when asked). */
async function writeAndScore(
  name: ModelRow['name'],
  model: ModelFile,
  ctx: { out: string; pipeline: PipelineFile; val: Parameters<typeof scoreOnnx>[1]; task: Parameters<typeof scoreOnnx>[2]; log: (l: string) => void },
): Promise<ModelRow> {
  const row: ModelRow = { name, mAP: null, NDS: null, mIoU: null, params: model.params.total, nonZero: model.params.nonZero, onnxMB: model.onnx.byteLength / 1e6, latencyMs: null, evaluatedWith: null, notes: model.notes };
  if (ctx.pipeline.export.onnx) writeFileAtomic(path.join(ctx.out, `${name}.onnx`), model.onnx);
  if (ctx.pipeline.export.evaluate) {
    ctx.log(`evaluating ${name}.onnx in onnxruntime on ${ctx.val.length} held-out frames`);
    const s = await scoreOnnx(model.onnx, ctx.val, ctx.task);
    const finite = (v: number) => (Number.isFinite(v) ? v : null);
    Object.assign(row, { mAP: finite(s.mAP), NDS: finite(s.NDS), mIoU: finite(s.mIoU), evaluatedWith: 'onnxruntime' });
  }
  return row;
}

/**
 * Each row's latency: the median of `latencyRuns` single-frame forwards of its file in onnxruntime
 * (1 thread), the files run in alternation so a change in machine load hits them alike.
 */
async function measureLatencies(rows: ModelRow[], files: ModelFile[], ctx: { pipeline: PipelineFile; val: Parameters<typeof scoreOnnx>[1]; task: Parameters<typeof scoreOnnx>[2]; log: (l: string) => void }): Promise<void> {
  const runs = ctx.pipeline.export.latencyRuns;
  if (!ctx.pipeline.export.evaluate || runs === 0 || ctx.val.length === 0) return;
  ctx.log(`timing ${files.length} files in onnxruntime (1 thread, ${runs} alternating runs each)`);
  const batch = makeBatch(ctx.val.slice(0, 1), ctx.task);
  try {
    const ms = await interleavedOrtLatencies(files.map((f) => f.onnx), batch.feeds, runs);
    rows.forEach((row, i) => (row.latencyMs = ms[i]));
  } finally {
    disposeBatch(batch);
  }
}

/** Scalars of a model and how many are not zero. */
function countParams(graph: Graph, params: ParamStore): { total: number; nonZero: number } {
  let total = 0;
  let nonZero = 0;
  for (const p of graph.params) {
    const v = params.get(p.name).dataSync();
    total += v.length;
    for (let i = 0; i < v.length; i++) if (v[i] !== 0) nonZero++;
  }
  return { total, nonZero };
}

/**
 * What a checkpoint must match to be resumed: the resolved pipeline (seed, model ref and modality,
 * teacher, data, stages with plugin options, training settings but the checkpoint interval) and a
 * hash of the starting weights and graph.
 */
function runFingerprint(pipeline: PipelineFile, dense: LoadedModel): Record<string, unknown> {
  const { json, weights } = serializeGraph(dense.graph, dense.params, 'weights.bin');
  const hash = crypto.createHash('sha256').update(json).update(weights ?? new Uint8Array()).digest('hex');
  // How often to checkpoint or to measure term gradients does not change the weights.
  const { checkpointEvery: _every, termGradientEvery: _measure, ...training } = pipeline.training;
  return JSON.parse(JSON.stringify({ seed: pipeline.seed, model: pipeline.model, modality: dense.modality, modelSha256: hash, teacher: pipeline.teacher, data: pipeline.data, stages: pipeline.stages, training }));
}

/** The fixed rig of `export.fixedRig`, with the pipeline field named when the frames have several. */
function bakedRig(frames: Parameters<typeof fixedRigInputs>[0], task: Parameters<typeof fixedRigInputs>[1]): ReturnType<typeof fixedRigInputs> {
  try {
    return fixedRigInputs(frames, task);
  } catch (e) {
    if (e instanceof BevzipError) throw new BevzipError(ERROR_CODES.CONFIG, `pipeline field export.fixedRig: ${e.message}`, { cause: e });
    throw e;
  }
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
  const { driver, stagePlugins, packages } = instantiatePlugins(pipeline, pluginLookup(options.cwd ?? process.cwd(), options.pluginDev), { file: options.pipeline, text: loaded.text });
  for (const m of packages.values()) if (m.dev) log(`plugin ${m.name} ${m.version}: loaded from the development folder ${m.dir} (--plugin-dev)`);
  await initBackend({ backend: options.backend, quiet: options.quietBackend });
  const dense: LoadedModel = loadModelRef(pipeline.model, { seed: pipeline.seed, baseDir: loaded.dir, field: 'model' });
  const owned: ParamStore[] = [dense.params];
  const warnings: string[] = [];
  let releaseOut = () => undefined as void;
  try {
    let teacher: LoadedModel | undefined;
    if (pipeline.teacher === 'model') teacher = dense;
    else if (pipeline.teacher) owned.push((teacher = loadModelRef(pipeline.teacher, { seed: pipeline.seed, baseDir: loaded.dir, field: 'teacher' })).params);
    log(`model ${dense.source} (${dense.config.name}, ${dense.modality})${teacher ? `; teacher ${teacher === dense ? 'the starting model' : teacher.source}` : ''}`);
    for (const m of new Set([dense, teacher])) if (m?.unverified) warnings.push(m.unverified);
    for (const w of warnings) log(`warning: ${w}`);
    const implausible = implausibleSettings(pipeline);
    for (const w of implausible) log(`warning: ${w}`);
    const frames = loadFrames(pipeline.data, { baseDir: loaded.dir, onScene: (d, t) => log(`data: scene ${d}/${t}`) });
    log(`data: ${frames.description}`);
    const batchWarning = batchWarnings(pipeline.data.batchSize, frames.train.length);
    for (const w of batchWarning) log(`warning: ${w}`);
    warnings.push(...implausible, ...batchWarning);
    // Everything is validated and loaded; only now is the output folder touched.
    const reads = [
      { what: 'the pipeline file', path: loaded.file },
      ...(dense.dir ? [{ what: "the model (pipeline field 'model')", path: dense.dir }] : []),
      ...(teacher?.dir && teacher !== dense ? [{ what: "the teacher (pipeline field 'teacher')", path: teacher.dir }] : []),
      ...('nuscenes' in pipeline.data && pipeline.data.nuscenes ? [{ what: 'the nuScenes data (pipeline field data.nuscenes.root)', path: path.resolve(loaded.dir, pipeline.data.nuscenes.root) }] : []),
    ];
    checkOutDir(out, reads);
    const lock = takeOutDir(out, { command: 'compress', onStale: (m) => log(`warning: ${out}: ${m}`) });
    releaseOut = lock.release;
    const checkpoints = path.join(out, CHECKPOINTS);
    if (!options.resume && fs.existsSync(checkpoints)) {
      log(`removing the checkpoints of an earlier run in ${checkpoints} (pass --resume to continue it)`);
      fs.rmSync(checkpoints, { recursive: true, force: true });
    }
    const task = taskConfigForModel(dense.config, dense.modality);
    // A teacher of another modality (a LiDAR teacher for a camera student) needs its own feeds too:
    // the batches then carry both, and the student reads only its inputs.
    const dataTask = teacher && teacher !== dense && teacher.modality !== dense.modality ? taskConfigForModel(dense.config, 'fusion') : task;
    // Checked before training, so frames with several calibrations fail before any work.
    const rig = pipeline.export.fixedRig && dense.graph.inputs.some((i) => i.name === 'cam_bev_index') ? bakedRig([...frames.train, ...frames.val], task) : undefined;
    const rigNote = rig ? [`camera rig baked in: cam_bev_index of the one calibration of all ${frames.train.length + frames.val.length} frames is a constant, not an input`] : [];
    const run = new Pipeline({
      seed: pipeline.seed,
      graph: dense.graph,
      params: dense.params,
      stages: runtimeStages(pipeline, { data: frameDataSource(frames.train, dataTask, pipeline.data.batchSize), taskLoss: pipelineTaskLoss(task), teacher, stagePlugins }),
      checkpoint: { dir: checkpoints, every: pipeline.training.checkpointEvery, resume: options.resume ? 'required' : false, fingerprint: runFingerprint(pipeline, dense) },
      // The plugins' export hooks shape the deployable file; the run hands it back as `artifact`.
      export: { opset: ONNX_OPSET, producer: 'bevzip', constantInputs: rig },
      stop: options.signal,
    }, driver);
    const log$ = appendJsonLines(run.events, path.join(out, EVENTS_FILE), options.resume ?? false);
    const stopProgress = attachProgress(run.events, log, options.richProgress ?? true);
    run.events.subscribe((e) => e.type === 'warning' && warnings.push(`[${e.code}] ${e.message}`));
    let result: Awaited<ReturnType<Pipeline['run']>>;
    try {
      result = await run.run();
    } catch (e) {
      if (e instanceof BevzipError && e.code === ERROR_CODES.INTERRUPTED) {
        const resume = `bevzip compress --pipeline ${JSON.stringify(path.relative(process.cwd(), loaded.file) || loaded.file)} --out ${JSON.stringify(path.relative(process.cwd(), out) || '.')} --resume`;
        throw new BevzipError(ERROR_CODES.INTERRUPTED, `${e.message}; continue with: ${resume}`, { cause: e });
      }
      throw e;
    } finally {
      stopProgress();
      log$.unsubscribe();
    }
    owned.push(result.params);
    try {
      replaceDirAtomic(path.join(out, 'compressed'), (tmp) => saveGraph(tmp, result.graph, result.params));
      const ctx = { out, pipeline, val: frames.val, task, log };
      const artifact = result.artifact!;
      const denseGraph = stripTrainOnly(dense.graph);
      const denseFile: ModelFile = { onnx: exportOnnx(denseGraph, dense.params, { opset: ONNX_OPSET, producer: 'bevzip', constantInputs: rig }), params: countParams(denseGraph, dense.params), notes: rigNote };
      const compressedFile: ModelFile = { onnx: artifact.onnx, params: artifact.params, notes: [...artifact.reports.map((r) => `${r.plugin}: ${r.summary}`), ...rigNote] };
      for (const note of compressedFile.notes) log(`export ${note}`);
      const models = [await writeAndScore('dense', denseFile, ctx), await writeAndScore('compressed', compressedFile, ctx)];
      await measureLatencies(models, [denseFile, compressedFile], ctx);
      const bitWidths = artifact.reports.flatMap((r) => r.bitWidths ?? []);
      const summary: RunSummary = {
        format: 'bevzip-summary',
        version: 2,
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
      writeFileAtomic(path.join(out, SUMMARY_FILE), JSON.stringify(summary, null, 2) + '\n');
      if (pipeline.export.report) log(`report: ${await writeReport(out, { render: options.render })}`);
      return summary;
    } finally {
      for (const m of [...result.masks.params.values(), ...result.masks.features.values()]) m.dispose();
    }
  } finally {
    for (const p of owned) p.dispose();
    releaseOut();
  }
}
