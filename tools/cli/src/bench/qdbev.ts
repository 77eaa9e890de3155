import type * as tf from '@tensorflow/tfjs';
import { createOrtSession, exportOnnx, foldBatchNorm, initBackend, ParamStore, Pipeline, runOrt, type Graph, type Plugin, type StageConfig } from '@bevzip/ir';
import type { Frame, FrameEvaluation } from '@bevzip/driving-data';
import {
  buildBevFusion,
  BEV_FUSION_CONFIGS,
  feedsOf,
  frameDataSource,
  loadModelCheckpoint,
  syntheticFrames,
  targetTensors,
  taskConfigForModel,
  taskLoss,
  type EvaluatedSplit,
  type HostTargets,
  type TaskConfig,
} from '@bevzip/bev-fusion';
import { DEFAULT_PARTS, exportQdq, progressiveSchedule, qdbevDistill, qdbevQuantize, quantCost, type QuantCostRow, type QuantState } from '@bevzip/plugin-qdbev';
import { benchValidationFrames, evaluateOnnx, machineInfo, type MethodBenchCommon } from './common';
import { compareModels, renderComparison, type ProtocolComparison } from './protocol';
import { round } from './timing';

/** Settings of `bevzip bench qdbev`. */
export interface QdbevBenchOptions extends MethodBenchCommon {
  /** Model reference (`builtin:tiny-camera`, a directory), or `random:<config>` for a smoke run. */
  teacher: string;
  seed: number;
  /** QAT steps per progressive stage; standard QAT gets 4× this, phase 2 (± VGD) `phase2Steps`. */
  stageSteps: number;
  phase2Steps: number;
  calibrationBatches: number;
  temperature: number;
  /** VGD's share of the task gradient norm (its λ set at the stage's first step); unset: the paper's λ = 1. */
  vgdGradientShare?: number;
  latencyRepeats: number;
}

export interface QdbevRow {
  setting: string;
  wBits: number;
  aBits: number;
  mAP: number;
  NDS: number;
  sizeMB: number;
  /** Σ b_w·b_a·MACs per sample (float layers at 32·32), in GBOPs. */
  bops: number;
  /** Median onnxruntime latency of this row's QDQ model over the float32 model (1 thread). */
  ortLatencyRatio: number;
}

export interface QdbevBenchReport {
  method: 'qdbev';
  teacher: string;
  seed: number;
  steps: { stage: number; standard: number; phase2: number; batchSize: number; lr: number };
  /** How the phase-2 VGD term was scaled: the paper's λ = 1, or a gradient share. */
  vgd: { temperature: number; weight: 1 } | { temperature: number; gradientShare: number };
  data: { trainFrames: number; valFrames: number; dataSeed: number; split: EvaluatedSplit };
  machine: { cpus: string; cores: number; node: string; platform: string };
  fp: { mAP: number; NDS: number; sizeMB: number; bops: number; ortMs: number };
  rows: QdbevRow[];
  /** Every row against float32 under the evaluation protocol (bootstrap intervals, paired differences). */
  comparison: ProtocolComparison;
  /** Per-part size and BOPs of the W4A6 model with every part quantized. */
  costW4A6: QuantCostRow[];
  weightStorage: string;
  elapsedSeconds: number;
}

const PARTS = Object.keys(DEFAULT_PARTS);

interface Setup {
  graph: Graph;
  params: ParamStore;
  cfg: TaskConfig;
  train: Frame[];
  val: Frame[];
  lead: Record<string, number>;
  o: QdbevBenchOptions;
}

function loadTeacher(ref: string): { graph: Graph; params: ParamStore } {
  if (ref.startsWith('random:')) {
    const config = BEV_FUSION_CONFIGS[ref.slice(7) as keyof typeof BEV_FUSION_CONFIGS];
    const graph = buildBevFusion(config, 'camera');
    return { graph, params: ParamStore.init(graph, 0) };
  }
  return loadModelCheckpoint(ref);
}

async function medianLatency(model: Uint8Array, feeds: Record<string, tf.Tensor>, repeats: number): Promise<number> {
  const session = await createOrtSession(model, { threads: 1 });
  const used = Object.fromEntries(Object.entries(feeds).filter(([n]) => session.inputNames.includes(n)));
  const times: number[] = [];
  for (let r = 0; r < repeats + 3; r++) {
    const start = performance.now();
    await runOrt(session, used);
    if (r >= 3) times.push(performance.now() - start);
  }
  await session.release();
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const lossFor = (cfg: TaskConfig) => (outputs: Record<string, tf.Tensor>, batch: { targets?: unknown }) =>
  taskLoss({ heatmap: outputs.heatmap, reg: outputs.reg, map: outputs.map }, targetTensors(batch.targets as HostTargets), cfg).total;

function stage(s: Setup, name: string, steps: number, extra: Partial<StageConfig> = {}): StageConfig {
  return {
    name,
    steps,
    data: frameDataSource(s.train, s.cfg, s.o.batchSize, s.o.seed),
    taskLoss: lossFor(s.cfg),
    optimizer: { kind: 'adamw', lr: s.o.lr, weightDecay: 0.01 },
    schedule: { kind: 'cosine', totalSteps: Math.max(steps, 1) },
    clipNorm: 35,
    ...extra,
  };
}

/** Runs the quantizer (and any other plugins) over the stages; returns the weights and the quantization state. */
async function quantize(s: Setup, params: ParamStore, stages: StageConfig[], quant: Record<string, unknown>, extra: Plugin[] = []) {
  let state: (QuantState & { enabled: string[] }) | undefined;
  const pipeline = new Pipeline({ seed: s.o.seed, graph: s.graph, params, stages }).use(
    qdbevQuantize({ ...quant, calibration: { batches: s.o.calibrationBatches }, onState: (st) => (state = st) }),
  );
  for (const p of extra) pipeline.use(p);
  pipeline.events.subscribe((e) => {
    if (e.type === 'stage-end') s.o.log(`  stage ${e.stage} done`);
    if (e.type === 'warning') s.o.log(`  warning: ${e.message}`);
  });
  const result = await pipeline.run();
  for (const m of [...result.masks.params.values(), ...result.masks.features.values()]) m.dispose();
  return { params: result.params, state: state! };
}

/**
 * QD-BEV on a float teacher (batch norm folded first, as deployed): PTQ per-part sensitivity at
 * W4A6, the PTQ bit sweep, standard vs progressive QAT at equal steps, and a phase 2 with and
 * without view-guided distillation. Every model is exported as QDQ ONNX and evaluated (mAP, NDS on
 * the synthetic validation set) and timed in onnxruntime.
 */
export async function benchQdbev(o: QdbevBenchOptions): Promise<QdbevBenchReport> {
  const began = performance.now();
  await initBackend({});
  const teacher = loadTeacher(o.teacher);
  const meta = teacher.graph.meta as { config: (typeof BEV_FUSION_CONFIGS)['tiny']; modality: 'camera' | 'lidar' | 'fusion'; cameras: number };
  const cfg = taskConfigForModel(meta.config, meta.modality);
  const { graph, params } = foldBatchNorm(teacher.graph, teacher.params);
  teacher.params.dispose();
  o.log(`generating ${o.trainScenes * 3} training frames`);
  const val = benchValidationFrames(o);
  const s: Setup = { graph, params, cfg, train: syntheticFrames(0, 0, o.trainScenes, 3), val: val.frames, lead: { images: meta.cameras }, o };
  const latencyFeeds = feedsOf(s.val.slice(0, 1), cfg);
  const fpModel = exportOnnx(graph, params);
  const fpMetrics = await evaluateOnnx(fpModel, s.val, cfg);
  const perFrame: FrameEvaluation[] = [];
  const fpMs = await medianLatency(fpModel, latencyFeeds, o.latencyRepeats);
  const rows: QdbevRow[] = [];
  let fpCost: QuantCostRow | undefined;
  let costW4A6: QuantCostRow[] = [];
  const addRow = async (setting: string, wBits: number, aBits: number, p: ParamStore, state: QuantState & { enabled: string[] }) => {
    const { model } = exportQdq(graph, p, state, state.enabled);
    const m = await evaluateOnnx(model, s.val, cfg);
    perFrame.push(m.perFrame);
    const ms = await medianLatency(model, latencyFeeds, o.latencyRepeats);
    const cost = quantCost(graph, state.plan, state.enabled, DEFAULT_PARTS, s.lead);
    fpCost ??= quantCost(graph, state.plan, [], DEFAULT_PARTS, s.lead).total;
    if (wBits === 4 && aBits === 6 && state.enabled.length === PARTS.length) costW4A6 = [...cost.rows, cost.total];
    const row = { setting, wBits, aBits, mAP: round(m.mAP, 4), NDS: round(m.NDS, 4), sizeMB: round(cost.total.bytes / 1e6, 4), bops: round(cost.total.bops / 1e9, 3), ortLatencyRatio: round(ms / fpMs, 3) };
    rows.push(row);
    o.log(`${setting.padEnd(34)} W${wBits}A${aBits} mAP ${row.mAP.toFixed(4)} NDS ${row.NDS.toFixed(4)} ${row.sizeMB} MB ${row.bops} GBOPs latency ×${row.ortLatencyRatio}`);
  };
  const ptq = async (setting: string, wBits: number, aBits: number, parts: string[]) => {
    const r = await quantize(s, params, [stage(s, 'ptq', 0)], { wBits, aBits, schedule: { ptq: parts } });
    await addRow(setting, wBits, aBits, r.params, r.state);
    r.params.dispose();
  };
  o.log(`float: mAP ${fpMetrics.mAP.toFixed(4)} NDS ${fpMetrics.NDS.toFixed(4)}, ${fpMs.toFixed(1)} ms`);
  for (const part of PARTS) await ptq(`PTQ ${part} only`, 4, 6, [part]);
  for (const [w, a] of [[8, 8], [6, 6], [4, 6], [4, 4]]) await ptq('PTQ all', w, a, PARTS);

  const k = o.stageSteps;
  o.log(`standard QAT, ${4 * k} steps`);
  const standard = await quantize(s, params, [stage(s, 'qat', 4 * k)], { wBits: 4, aBits: 6 });
  await addRow('QAT standard', 4, 6, standard.params, standard.state);
  standard.params.dispose();
  o.log(`progressive QAT, 4 × ${k} steps`);
  const names = PARTS.map((p) => `qat-${p}`);
  const progressive = await quantize(s, params, names.map((n) => stage(s, n, k)), { wBits: 4, aBits: 6, schedule: progressiveSchedule(names) });
  await addRow('QAT progressive', 4, 6, progressive.params, progressive.state);
  if (meta.modality !== 'lidar' && o.phase2Steps > 0) {
    for (const vgd of [false, true]) {
      o.log(`phase 2 ${vgd ? 'with' : 'without'} VGD, ${o.phase2Steps} steps`);
      const extra = vgd ? [qdbevDistill({ temperature: o.temperature, gradientShare: o.vgdGradientShare })] : [];
      const p2 = await quantize(s, progressive.params, [stage(s, 'phase2', o.phase2Steps, vgd ? { teacher: { graph, params } } : {})], { wBits: 4, aBits: 6, ranges: progressive.state.ranges }, extra);
      await addRow(vgd ? 'QAT progressive + VGD' : 'QAT progressive + phase 2 (no VGD)', 4, 6, p2.params, p2.state);
      p2.params.dispose();
    }
  }
  progressive.params.dispose();
  for (const t of Object.values(latencyFeeds)) t.dispose();
  params.dispose();
  const fp = { mAP: round(fpMetrics.mAP, 4), NDS: round(fpMetrics.NDS, 4), sizeMB: round((fpCost?.fpBytes ?? 0) / 1e6, 4), bops: round((fpCost?.fpBops ?? 0) / 1e9, 3), ortMs: round(fpMs, 2) };
  o.log('bootstrap intervals');
  const { text: _text, ...comparison } = compareModels([
    { name: 'float32', evals: [fpMetrics.perFrame], extra: costColumns({ wBits: 32, aBits: 32, sizeMB: fp.sizeMB, bops: fp.bops, ortLatencyRatio: 1 }) },
    ...rows.map((r, i) => ({ name: rowName(r), evals: [perFrame[i]], extra: costColumns(r) })),
  ]);
  return {
    method: 'qdbev',
    teacher: o.teacher,
    seed: o.seed,
    steps: { stage: k, standard: 4 * k, phase2: o.phase2Steps, batchSize: o.batchSize, lr: o.lr },
    vgd: o.vgdGradientShare === undefined ? { temperature: o.temperature, weight: 1 } : { temperature: o.temperature, gradientShare: o.vgdGradientShare },
    data: { trainFrames: s.train.length, valFrames: s.val.length, dataSeed: 0, split: val.split },
    machine: machineInfo(),
    fp,
    rows,
    comparison,
    costW4A6,
    weightStorage: 'ONNX opset 17 has no 4-bit type: 4-bit weights are stored as int8 codes in [-8, 7]; sizes count them at 4 bits',
    elapsedSeconds: round((performance.now() - began) / 1000, 1),
  };
}

const rowName = (r: Pick<QdbevRow, 'setting' | 'wBits' | 'aBits'>) => `${r.setting} W${r.wBits}A${r.aBits}`;
const costColumns = (r: Pick<QdbevRow, 'wBits' | 'aBits' | 'sizeMB' | 'bops' | 'ortLatencyRatio'>) => ({
  'size MB': r.sizeMB.toFixed(3),
  GBOPs: r.bops.toFixed(2),
  'ORT ×': String(r.ortLatencyRatio),
});

/** The report as the protocol table (mAP, NDS with intervals, differences to float32) with size, BOPs and latency. */
export function formatQdbevTable(r: QdbevBenchReport): string {
  return [renderComparison(r.comparison), `teacher ${r.teacher}, seed ${r.seed}, VGD ${'gradientShare' in r.vgd ? `at gradient share ${r.vgd.gradientShare}` : 'at λ = 1'} (T = ${r.vgd.temperature}), ${r.elapsedSeconds} s on ${r.machine.cpus} ×${r.machine.cores}`, ''].join('\n');
}
