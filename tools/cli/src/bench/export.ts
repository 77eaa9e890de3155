import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { onnx } from 'onnx-proto';
import { exportOnnx, initBackend, ort, Pipeline, runOrt, stripTrainOnly, type Graph, type ParamStore, type Plugin, type StageConfig } from '@bevzip/ir';
import { feedsOf, fixedRigInputs, frameDataSource, loadModelCheckpoint, syntheticFrames, taskConfigForModel, validationFrames, type TaskConfig } from '@bevzip/bev-fusion';
import type { Frame } from '@bevzip/driving-data';
import { alterMoma } from '@bevzip/plugin-altermoma';
import { qdbevQuantize, quantTransforms, type QuantState } from '@bevzip/plugin-qdbev';
import { pipelineTaskLoss } from '../pipeline/data';
import { scoreInterpreter, scoreOnnx } from '../pipeline/evaluate';
import { interleavedOrtLatencies } from './common';
import { round } from './timing';

export interface ExportBenchOptions {
  teacher: string;
  seed: number;
  /** Calibration batches (batch size 2) of the PTQ runs. */
  calibrationBatches: number;
  /** Synthetic validation scenes (3 frames each) for NDS. */
  valScenes: number;
  /** Timed onnxruntime runs per model (median), interleaved. */
  latencyRuns: number;
  /** Bake the synthetic rig's camera geometry into every file, as a car would ship it (a per-frame-geometry fp32 row is kept for reference). */
  fixedRig: boolean;
  /** Also write every measured file here as `<setting>.onnx`, to inspect or profile it. */
  saveDir?: string;
  log: (line: string) => void;
}

/** One exported file: its bytes, how many of them are initializers, and its median latency. */
export interface ExportedFile {
  setting: string;
  bytes: number;
  /** Bytes of the initializers (weights, scales, zero points): the part quantization shrinks. */
  initializerBytes: number;
  latencyMs: number;
  /** Ops of the model after onnxruntime's graph optimisations, counted by type (integer kernels and float convs). */
  optimizedOps: Record<string, number>;
  /** What each plugin's export contribution said. */
  notes: string[];
  /** onnxruntime's own per-node profile of one thread, summed by op type: mean ms per run. */
  profileMs: Record<string, number>;
}

export interface ExportBenchReport {
  teacher: string;
  machine: { cpus: number; model: string };
  latencyRuns: number;
  valFrames: number;
  files: ExportedFile[];
  nds: { setting: string; artifact: number; interpreter: number }[];
  /** Whether the files carry the fixed rig's camera geometry (cam_bev_index a constant). */
  fixedRig: boolean;
  ratios: {
    w8a8OverFp32Latency: number;
    /** fp32 with the rig baked in over fp32 reading the geometry per frame (with `fixedRig`). */
    fixedRigOverPerFrameFp32Latency?: number;
    w4FileOverFp32File: number;
    w4InitializersOverFp32Initializers: number;
    /** The same W4 model with int8 codes, file / fp32 file. */
    w4Int8CodesFileOverFp32File: number;
    /** Latency of the packed INT4 file over the int8-code file: what the smaller file costs in speed. */
    w4Int4OverInt8CodesLatency: number;
    structured50OverDenseLatency: number;
    /** NDS of the W4A6 ORT artifact minus NDS of the same model fake-quantized in the interpreter. */
    artifactVsTrainingNDSDelta: number;
    artifactVsTrainingNDSDeltaW8A8: number;
    /**
     * The W8A8 ratio if its integer kernels (and their Q/DQ) took no time at all: the profiled time
     * of every float op of the W8A8 file over the fp32 file's. No QDQ placement can go below it.
     */
    w8a8BoundIfIntegerKernelsFree: number;
  };
  seconds: number;
}

interface Setup {
  graph: Graph;
  params: ParamStore;
  cfg: TaskConfig;
  calibration: Frame[];
  val: Frame[];
  /** The fixed rig's constant inputs, with `o.fixedRig`. */
  rig?: ReturnType<typeof fixedRigInputs>;
  o: ExportBenchOptions;
}

/** A zero-step stage: plugins score (calibrate, prune) on the calibration frames, no training. */
function scoringStage(s: Setup): StageConfig {
  return { name: 'ptq', steps: 0, data: frameDataSource(s.calibration, s.cfg, 2, s.o.seed), taskLoss: pipelineTaskLoss(s.cfg) };
}

/** Runs the plugins over one scoring stage; the caller owns the returned weights. */
async function artifactOf(s: Setup, plugins: Plugin[]) {
  const pipeline = new Pipeline({ seed: s.o.seed, graph: s.graph, params: s.params, stages: [scoringStage(s)], export: { constantInputs: s.rig } });
  for (const p of plugins) pipeline.use(p);
  const result = await pipeline.run();
  for (const m of [...result.masks.params.values(), ...result.masks.features.values()]) m.dispose();
  return { result };
}

function fileFacts(model: Uint8Array): { initializerBytes: number } {
  const g = onnx.ModelProto.decode(model).graph!;
  return { initializerBytes: (g.initializer ?? []).reduce((n, t) => n + (t.rawData?.byteLength ?? 0), 0) };
}

async function optimizedOps(model: Uint8Array): Promise<Record<string, number>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-bench-export-'));
  try {
    const file = path.join(dir, 'optimized.onnx');
    const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', optimizedModelFilePath: file, logSeverityLevel: 3 });
    await session.release();
    const counts: Record<string, number> = {};
    for (const n of onnx.ModelProto.decode(fs.readFileSync(file)).graph!.node!) if (/Conv|MatMul|Gemm/.test(n.opType!)) counts[n.opType!] = (counts[n.opType!] ?? 0) + 1;
    return counts;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs `model` `runs` times with onnxruntime's profiler on and sums its per-node times by op type
 * (after ORT's graph optimisations, so fused kernels such as QLinearConv appear as such).
 */
export async function opProfile(model: Uint8Array, feeds: Record<string, tf.Tensor>, runs: number): Promise<Record<string, number>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-bench-profile-'));
  try {
    const session = await ort.InferenceSession.create(model, {
      executionProviders: ['cpu'],
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      enableProfiling: true,
      profileFilePrefix: path.join(dir, 'profile'),
      logSeverityLevel: 3,
    });
    const used = Object.fromEntries(Object.entries(feeds).filter(([n]) => session.inputNames.includes(n)));
    for (let i = 0; i < runs; i++) await runOrt(session, used);
    session.endProfiling();
    await session.release();
    const file = fs.readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) return {};
    const events = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { cat?: string; name?: string; dur?: number; args?: { op_name?: string } }[];
    const totals: Record<string, number> = {};
    for (const e of events) {
      // One "<node>_kernel_time" event per node and run; its duration is in microseconds.
      if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || !e.args?.op_name) continue;
      totals[e.args.op_name] = (totals[e.args.op_name] ?? 0) + (e.dur ?? 0) / 1000 / runs;
    }
    return Object.fromEntries(Object.entries(totals).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, round(v, 3)]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The deployable artifact on the shipped tiny fusion teacher, measured in onnxruntime: file sizes
 * of the float, W8A8 and W4 files; latencies of float, W8A8, W4A6 and AlterMOMA structured 50%
 * (channels removed), interleaved in one process; the ORT artifact's NDS against the same model
 * fake-quantized in the tfjs interpreter. Every compressed file comes from a real pipeline run's
 * `export` hooks, exactly what `bevzip compress` writes.
 */
export async function benchExport(o: ExportBenchOptions): Promise<ExportBenchReport> {
  const began = performance.now();
  await initBackend({ quiet: true });
  const teacher = loadModelCheckpoint(o.teacher);
  const meta = teacher.graph.meta as { config: Parameters<typeof taskConfigForModel>[0]; modality: Parameters<typeof taskConfigForModel>[1] };
  const cfg = taskConfigForModel(meta.config, meta.modality);
  const s: Setup = {
    graph: teacher.graph,
    params: teacher.params,
    cfg,
    calibration: syntheticFrames(o.seed, 0, Math.max(1, Math.ceil((o.calibrationBatches * 2) / 3)), 3),
    val: validationFrames({ dataSeed: o.seed, valScenes: o.valScenes, framesPerScene: 3 }),
    o,
  };
  if (o.fixedRig) s.rig = fixedRigInputs([...s.calibration, ...s.val], cfg);
  const files: { setting: string; model: Uint8Array; notes: string[] }[] = [];
  const owned: ParamStore[] = [];
  try {
    const fp32 = exportOnnx(stripTrainOnly(s.graph), s.params, { constantInputs: s.rig });
    files.push({ setting: 'fp32', model: fp32, notes: s.rig ? ['camera rig baked in'] : [] });
    if (s.rig) files.push({ setting: 'fp32-per-frame', model: exportOnnx(stripTrainOnly(s.graph), s.params), notes: ['camera geometry read per frame'] });
    const nds: ExportBenchReport['nds'] = [];
    for (const [wBits, aBits, weightStorage] of [
      [8, 8, 'int8'],
      [4, 6, 'int8'],
      [4, 8, 'int8'],
      [4, 8, 'int4'],
    ] as const) {
      const setting = `W${wBits}A${aBits}${weightStorage === 'int4' ? '-int4' : ''}`;
      o.log(`${setting}: PTQ (${o.calibrationBatches} calibration batches) and export`);
      let state: (QuantState & { enabled: string[] }) | undefined;
      const { result } = await artifactOf(s, [qdbevQuantize({ wBits, aBits, weightStorage, calibration: { batches: o.calibrationBatches }, onState: (st) => (state = st) })]);
      owned.push(result.params);
      const artifact = result.artifact!;
      files.push({ setting, model: artifact.onnx, notes: artifact.reports.map((r) => `${r.plugin}: ${r.summary}`) });
      if ((aBits === 6 || wBits === 8) && weightStorage === 'int8') {
        o.log(`${setting}: NDS of the ORT artifact and of the fake-quantized model in the interpreter on ${s.val.length} frames`);
        const ortScore = await scoreOnnx(artifact.onnx, s.val, cfg, { threads: 1 });
        const { weights, activations } = quantTransforms(state!, state!.enabled);
        const interp = await scoreInterpreter({ graph: result.graph, params: result.params, options: { weightTransforms: weights, activationTransforms: activations } }, s.val, cfg);
        nds.push({ setting, artifact: round(ortScore.NDS, 4), interpreter: round(interp.NDS, 4) });
        o.log(`  NDS artifact ${ortScore.NDS.toFixed(4)}, interpreter ${interp.NDS.toFixed(4)}`);
      }
    }
    o.log('AlterMOMA structured 50%: score, remove channels, export');
    const { result: pruned } = await artifactOf(s, [alterMoma({ sparsity: 0.5, structured: true, scoringBatches: 1, reactivationSteps: 2 })]);
    owned.push(pruned.params);
    files.push({ setting: 'structured50', model: pruned.artifact!.onnx, notes: pruned.artifact!.reports.map((r) => `${r.plugin}: ${r.summary}`) });

    if (o.saveDir) {
      fs.mkdirSync(o.saveDir, { recursive: true });
      for (const f of files) fs.writeFileSync(path.join(o.saveDir, `${f.setting}.onnx`), f.model);
      o.log(`wrote ${files.length} files to ${o.saveDir}`);
    }
    o.log(`timing ${files.length} files in onnxruntime, ${o.latencyRuns} interleaved runs each`);
    // One frame's feeds serve the timing and the profiles.
    const feeds = feedsOf(s.val.slice(0, 1), cfg);
    const measured: ExportedFile[] = [];
    try {
      const latencies = await interleavedOrtLatencies(files.map((f) => f.model), feeds, o.latencyRuns);
      for (const [i, f] of files.entries()) {
        const profileMs = await opProfile(f.model, feeds, Math.max(5, Math.min(20, o.latencyRuns)));
        measured.push({ setting: f.setting, bytes: f.model.byteLength, initializerBytes: fileFacts(f.model).initializerBytes, latencyMs: round(latencies[i], 2), optimizedOps: await optimizedOps(f.model), notes: f.notes, profileMs });
      }
    } finally {
      tf.dispose(Object.values(feeds));
    }
    const by = (setting: string) => measured.find((m) => m.setting === setting)!;
    const profiled = (f: ExportedFile, keep: (op: string) => boolean) => Object.entries(f.profileMs).reduce((t, [op, ms]) => (keep(op) ? t + ms : t), 0);
    const integerOp = (op: string) => /^(QLinear|QuantizeLinear|DequantizeLinear|ConvInteger|MatMulInteger|DynamicQuantize)/.test(op);
    const delta = (setting: string) => {
      const n = nds.find((x) => x.setting === setting)!;
      return round(n.artifact - n.interpreter, 4);
    };
    return {
      teacher: o.teacher,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown' },
      latencyRuns: o.latencyRuns,
      valFrames: s.val.length,
      files: measured,
      nds,
      fixedRig: o.fixedRig,
      ratios: {
        w8a8OverFp32Latency: round(by('W8A8').latencyMs / by('fp32').latencyMs),
        ...(s.rig && { fixedRigOverPerFrameFp32Latency: round(by('fp32').latencyMs / by('fp32-per-frame').latencyMs) }),
        w4FileOverFp32File: round(by('W4A8-int4').bytes / by('fp32').bytes),
        w4InitializersOverFp32Initializers: round(by('W4A8-int4').initializerBytes / by('fp32').initializerBytes),
        w4Int8CodesFileOverFp32File: round(by('W4A8').bytes / by('fp32').bytes),
        w4Int4OverInt8CodesLatency: round(by('W4A8-int4').latencyMs / by('W4A8').latencyMs),
        structured50OverDenseLatency: round(by('structured50').latencyMs / by('fp32').latencyMs),
        artifactVsTrainingNDSDelta: delta('W4A6'),
        artifactVsTrainingNDSDeltaW8A8: delta('W8A8'),
        w8a8BoundIfIntegerKernelsFree: round(profiled(by('W8A8'), (op) => !integerOp(op)) / profiled(by('fp32'), () => true)),
      },
      seconds: round((performance.now() - began) / 1000, 1),
    };
  } finally {
    for (const p of [...owned, s.params]) p.dispose();
  }
}

export function formatExportTable(r: ExportBenchReport): string {
  const lines = [
    `deployable artifact of ${r.teacher} in onnxruntime (${r.machine.cpus} cores, ${r.latencyRuns} interleaved runs per latency, 1 thread)`,
    `${'setting'.padEnd(14)}${'file MB'.padStart(9)}${'weights MB'.padStart(12)}${'ORT ms'.padStart(9)}  integer kernels / float convs after ORT optimisation`,
    ...r.files.map((f) => {
      const ops = Object.entries(f.optimizedOps).map(([k, v]) => `${k} ${v}`).join(', ');
      return `${f.setting.padEnd(14)}${(f.bytes / 1e6).toFixed(3).padStart(9)}${(f.initializerBytes / 1e6).toFixed(3).padStart(12)}${f.latencyMs.toFixed(2).padStart(9)}  ${ops}`;
    }),
    '',
    ...r.nds.map((n) => `${n.setting}: NDS artifact ${n.artifact.toFixed(4)} vs fake-quant interpreter ${n.interpreter.toFixed(4)} (${r.valFrames} frames)`),
    '',
    ...Object.entries(r.ratios).map(([k, v]) => `${k.padEnd(38)}${v}`),
    '',
    'where the time goes (onnxruntime profile, 1 thread, ms per run, top ops):',
    ...r.files.map((f) => `  ${f.setting.padEnd(14)}${Object.entries(f.profileMs).slice(0, 7).map(([op, ms]) => `${op} ${ms.toFixed(2)}`).join(', ')}`),
    '',
  ];
  return lines.join('\n');
}
