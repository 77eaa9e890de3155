import { exportOnnx, initBackend, Pipeline, stripTrainOnly } from '@bevzip/ir';
import type { FrameEvaluation } from '@bevzip/driving-data';
import {
  BEV_FUSION_CONFIGS,
  syntheticFrames,
  taskConfigForModel,
  type EvaluatedSplit,
} from '@bevzip/bev-fusion';
import { x3kd, type X3kdInput } from '@bevzip/plugin-x3kd';
import { benchValidationFrames, evaluateOnnx, machineInfo, type MethodBenchCommon } from './common';
import { benchStage, loadModelRefFor, logRunProgress, paramCount } from './kd-common';
import { compareModels, renderComparison, type ProtocolComparison } from './protocol';
import { round } from './timing';

/** The ablation rows: no KD, each component alone, all four. */
export const X3KD_VARIANTS = ['no-kd', 'x-is', 'x-fd', 'x-at', 'x-od', 'all'] as const;
export type X3kdVariant = (typeof X3KD_VARIANTS)[number];

/** Settings of `bevzip bench x3kd`. */
export interface X3kdBenchOptions extends MethodBenchCommon {
  /** Camera-only student start: a checkpoint (`builtin:tiny-camera`) or `random:<config>` (from scratch). */
  student: string;
  /** LiDAR (or fusion) teacher checkpoint. */
  teacher: string;
  seeds: number[];
  steps: number;
  variants: X3kdVariant[];
}

export interface X3kdRow {
  variant: X3kdVariant;
  seed: number;
  mAP: number;
  NDS: number;
  /** Parameters of the exported ONNX student (equal to the plain student's, asserted). */
  exportedParams: number;
  seconds: number;
}

export interface X3kdBenchReport {
  method: 'x3kd';
  student: string;
  teacher: string;
  seeds: number[];
  steps: number;
  batchSize: number;
  lr: number;
  data: { trainFrames: number; valFrames: number; dataSeed: number; split: EvaluatedSplit };
  machine: { cpus: string; cores: number; node: string; platform: string };
  /** The student before any training of this bench. */
  start: { mAP: number; NDS: number; params: number };
  rows: X3kdRow[];
  /** Mean over seeds per variant. */
  means: { variant: X3kdVariant; mAP: number; NDS: number }[];
  /** Every variant (its seeds pooled) against no KD (else the first variant) under the evaluation protocol. */
  comparison: ProtocolComparison;
  elapsedSeconds: number;
}

const ON = { enabled: true };
const OFF = { enabled: false };
function optionsFor(v: X3kdVariant): X3kdInput | undefined {
  if (v === 'no-kd') return undefined;
  const only = (k: 'is' | 'fd' | 'at' | 'od') => ({ is: k === 'is' ? ON : OFF, fd: k === 'fd' ? ON : OFF, at: k === 'at' ? ON : OFF, od: k === 'od' ? ON : OFF });
  return v === 'all' ? {} : only(v.slice(2) as 'is' | 'fd' | 'at' | 'od');
}

/**
 * The X3KD ablation: a camera-only student fine-tuned for the same steps and seeds with no KD, with
 * each of X-IS, X-FD, X-AT and X-OD alone, and with all four, from a frozen LiDAR teacher. Every
 * student is exported (train-only modules stripped; its parameter count is asserted equal to the
 * plain student's) and evaluated in onnxruntime on the synthetic validation scenes.
 */
export async function benchX3kd(o: X3kdBenchOptions): Promise<X3kdBenchReport> {
  const began = performance.now();
  await initBackend({});
  const student = loadModelRefFor(o.student, 'camera');
  const teacher = loadModelRefFor(o.teacher, 'lidar');
  const meta = student.graph.meta as { config: (typeof BEV_FUSION_CONFIGS)['tiny']; modality: string };
  if (meta.modality !== 'camera') throw new Error(`bench x3kd: --student must be a camera-only model, got '${meta.modality}'`);
  const cfg = taskConfigForModel(meta.config, 'camera');
  const dataCfg = taskConfigForModel(meta.config, 'fusion');
  o.log(`generating ${o.trainScenes * 3} training frames`);
  const train = syntheticFrames(0, 0, o.trainScenes, 3);
  const { frames: val, split } = benchValidationFrames(o);
  const plain = stripTrainOnly(student.graph);
  const plainParams = paramCount(plain);
  const start = await evaluateOnnx(exportOnnx(plain, student.params), val, cfg);
  o.log(`start: mAP ${start.mAP.toFixed(4)} NDS ${start.NDS.toFixed(4)} (${plainParams} params)`);
  const rows: X3kdRow[] = [];
  const perFrame = new Map<X3kdVariant, FrameEvaluation[]>(o.variants.map((v) => [v, []]));
  for (const seed of o.seeds) {
    for (const variant of o.variants) {
      const t0 = performance.now();
      const kd = optionsFor(variant);
      const pipeline = new Pipeline({
        seed,
        graph: student.graph,
        params: student.params,
        stages: [benchStage('x3kd', { ...o, seed }, { train, dataCfg, lossCfg: cfg }, kd ? teacher : undefined)],
        export: { opset: 17 },
      });
      if (kd) pipeline.use(x3kd(kd));
      logRunProgress(pipeline.events, `${variant} seed ${seed}`, o.steps, 4, o.log);
      const result = await pipeline.run();
      const artifact = result.artifact!;
      const exportedParams = paramCount(artifact.graph);
      if (exportedParams !== plainParams) {
        throw new Error(`bench x3kd: the exported '${variant}' student has ${exportedParams} parameters, the plain student ${plainParams}: train-only parts reached the artifact`);
      }
      const m = await evaluateOnnx(artifact.onnx, val, cfg);
      perFrame.get(variant)!.push(m.perFrame);
      result.params.dispose();
      for (const t of [...result.masks.params.values(), ...result.masks.features.values()]) t.dispose();
      const row = { variant, seed, mAP: round(m.mAP, 4), NDS: round(m.NDS, 4), exportedParams, seconds: round((performance.now() - t0) / 1000, 1) };
      rows.push(row);
      o.log(`${variant.padEnd(6)} seed ${seed}: mAP ${row.mAP.toFixed(4)} NDS ${row.NDS.toFixed(4)} (${row.seconds} s)`);
    }
  }
  student.params.dispose();
  teacher.params.dispose();
  const means = o.variants.map((variant) => {
    const rs = rows.filter((r) => r.variant === variant);
    const avg = (k: 'mAP' | 'NDS') => round(rs.reduce((s, r) => s + r[k], 0) / rs.length, 4);
    return { variant, mAP: avg('mAP'), NDS: avg('NDS') };
  });
  o.log('bootstrap intervals');
  const { text: _text, ...comparison } = compareModels(
    o.variants.map((v) => ({ name: v, evals: perFrame.get(v)! })),
    { baseline: o.variants.includes('no-kd') ? 'no-kd' : o.variants[0] },
  );
  return {
    method: 'x3kd',
    student: o.student,
    teacher: o.teacher,
    seeds: o.seeds,
    steps: o.steps,
    batchSize: o.batchSize,
    lr: o.lr,
    data: { trainFrames: train.length, valFrames: val.length, dataSeed: 0, split },
    machine: machineInfo(),
    start: { mAP: round(start.mAP, 4), NDS: round(start.NDS, 4), params: plainParams },
    rows,
    means,
    comparison,
    elapsedSeconds: round((performance.now() - began) / 1000, 1),
  };
}

/** The ablation table: per variant, mAP / NDS over seeds with intervals and the paired differences against no KD. */
export function formatX3kdTable(r: X3kdBenchReport): string {
  return [
    renderComparison(r.comparison),
    `student ${r.student} (start mAP ${r.start.mAP.toFixed(4)} NDS ${r.start.NDS.toFixed(4)}), teacher ${r.teacher}; ${r.steps} steps × batch ${r.batchSize}, seeds ${r.seeds.join(',')}; ${r.elapsedSeconds} s on ${r.machine.cpus} ×${r.machine.cores}`,
    '',
  ].join('\n');
}
