import * as os from 'node:os';
import { initBackend, Pipeline, stripTrainOnly } from '@bevzip/ir';
import { BEV_FUSION_CONFIGS, MODEL_INFO_FORMAT, saveModelCheckpoint, syntheticFrames, taskConfigForModel, validationFrames, type TaskConfig } from '@bevzip/bev-fusion';
import { vexkd, vexkdTeacher, type VexkdInput } from '@bevzip/plugin-vexkd';
import { evaluateOnnx } from './common';
import { benchStage, loadModelRefFor, logRunProgress, paramCount } from './kd-common';
import { round } from './timing';

export const VEXKD_VARIANTS = ['no-kd', 'full-map', 'vexkd'] as const;
export type VexkdVariant = (typeof VEXKD_VARIANTS)[number];
type Modality = 'camera' | 'lidar';

/** Settings of `bevzip bench vexkd`. */
export interface VexkdBenchOptions {
  /** Fusion model the VeXKD teacher starts from (its fuser is replaced by the MGFM and trained). */
  fusion: string;
  students: Record<Modality, string>;
  modalities: Modality[];
  teacherSteps: number;
  maskSteps: number;
  seeds: number[];
  steps: number;
  batchSize: number;
  lr: number;
  trainScenes: number;
  valScenes: number;
  variants: VexkdVariant[];
  /** Also write the trained VeXKD teacher here as a model directory (a pipeline file's `teacher`). */
  teacherOut?: string;
  /** Label written into the report (e.g. the reduced run's reason). */
  label?: string;
  log: (line: string) => void;
}

export interface VexkdRow {
  student: Modality;
  /** Each student is trained and distilled for both tasks at once (detection and map heads). */
  task: 'detection+map';
  variant: VexkdVariant;
  seed: number;
  mAP: number;
  NDS: number;
  mIoU: number;
  exportedParams: number;
  seconds: number;
}

export interface VexkdBenchReport {
  method: 'vexkd';
  label?: string;
  fusion: string;
  students: Record<Modality, string>;
  teacher: { steps: number; mAP: number; NDS: number; mIoU: number; seconds: number };
  maskSteps: number;
  seeds: number[];
  steps: number;
  batchSize: number;
  lr: number;
  data: { trainFrames: number; valFrames: number; dataSeed: number };
  machine: { cpus: string; cores: number; node: string; platform: string };
  rows: VexkdRow[];
  means: { student: Modality; variant: VexkdVariant; mAP: number; NDS: number; mIoU: number }[];
  elapsedSeconds: number;
}

/**
 * VeXKD on camera-only and LiDAR-only students: a VeXKD teacher is built once (the fusion model's
 * fuser swapped for the MGFM and trained with the task loss), then each student is fine-tuned for
 * the same steps and seeds with no KD, full-map attention-transfer KD, and VeXKD's masked KD (mask
 * training first, teacher frozen). Every student is exported (its parameter count asserted equal
 * to the plain student's) and evaluated in onnxruntime: mAP, NDS and map mIoU.
 */
export async function benchVexkd(o: VexkdBenchOptions): Promise<VexkdBenchReport> {
  const began = performance.now();
  await initBackend({});
  const base = loadModelRefFor(o.fusion, 'fusion');
  const meta = base.graph.meta as { config: (typeof BEV_FUSION_CONFIGS)['tiny']; configName: string };
  const dataCfg = taskConfigForModel(meta.config, 'fusion');
  o.log(`generating ${o.trainScenes * 3} training and ${o.valScenes * 3} validation frames`);
  const train = syntheticFrames(0, 0, o.trainScenes, 3);
  const val = validationFrames({ dataSeed: 0, valScenes: o.valScenes, framesPerScene: 3 });
  const stageOf = (name: string, steps: number, cfg: TaskConfig, seed: number) => benchStage(name, { steps, batchSize: o.batchSize, lr: o.lr, seed }, { train, dataCfg, lossCfg: cfg });

  const t0 = performance.now();
  o.log(`VeXKD teacher: ${o.fusion} with the MGFM, ${o.teacherSteps} steps`);
  const built = await new Pipeline({ seed: 0, graph: base.graph, params: base.params, stages: [stageOf('vexkd-teacher', o.teacherSteps, dataCfg, 0)], export: { opset: 17 } }).use(vexkdTeacher({})).run();
  base.params.dispose();
  const teacher = { graph: built.graph, params: built.params };
  const tm = await evaluateOnnx(built.artifact!.onnx, val, dataCfg);
  const teacherReport = { steps: o.teacherSteps, mAP: round(tm.mAP, 4), NDS: round(tm.NDS, 4), mIoU: round(tm.mIoU, 4), seconds: round((performance.now() - t0) / 1000, 1) };
  if (o.teacherOut) {
    saveModelCheckpoint(o.teacherOut, built.graph, built.params, { format: MODEL_INFO_FORMAT, version: 1, configName: meta.configName, config: meta.config, modality: 'fusion', training: { from: o.fusion, plugin: 'vexkd-teacher', steps: o.teacherSteps, seed: 0 } });
    o.log(`teacher written to ${o.teacherOut}`);
  }
  o.log(`teacher: mAP ${teacherReport.mAP} NDS ${teacherReport.NDS} mIoU ${teacherReport.mIoU} (${teacherReport.seconds} s)`);

  const rows: VexkdRow[] = [];
  for (const modality of o.modalities) {
    const student = loadModelRefFor(o.students[modality], modality);
    const cfg = taskConfigForModel(meta.config, modality);
    const plainParams = paramCount(stripTrainOnly(student.graph));
    for (const seed of o.seeds) {
      for (const variant of o.variants) {
        const t1 = performance.now();
        const kd: VexkdInput | undefined = variant === 'no-kd' ? undefined : { student: modality, variant: variant === 'vexkd' ? 'masked' : 'full-map', maskTraining: { steps: o.maskSteps } };
        const pipeline = new Pipeline({ seed, graph: student.graph, params: student.params, stages: [{ ...stageOf('vexkd', o.steps, cfg, seed), teacher: kd ? teacher : undefined }], export: { opset: 17 } });
        if (kd) pipeline.use(vexkd(kd));
        logRunProgress(pipeline.events, `${modality} ${variant} seed ${seed}`, o.steps, 2, o.log);
        const result = await pipeline.run();
        const artifact = result.artifact!;
        const exportedParams = paramCount(artifact.graph);
        if (exportedParams !== plainParams) throw new Error(`bench vexkd: the exported ${modality} '${variant}' student has ${exportedParams} parameters, the plain student ${plainParams}: train-only parts reached the artifact`);
        const m = await evaluateOnnx(artifact.onnx, val, cfg);
        result.params.dispose();
        for (const t of [...result.masks.params.values(), ...result.masks.features.values()]) t.dispose();
        const row: VexkdRow = { student: modality, task: 'detection+map', variant, seed, mAP: round(m.mAP, 4), NDS: round(m.NDS, 4), mIoU: round(m.mIoU, 4), exportedParams, seconds: round((performance.now() - t1) / 1000, 1) };
        rows.push(row);
        o.log(`${modality} ${variant.padEnd(8)} seed ${seed}: mAP ${row.mAP.toFixed(4)} NDS ${row.NDS.toFixed(4)} mIoU ${row.mIoU.toFixed(4)} (${row.seconds} s)`);
      }
    }
    student.params.dispose();
  }
  teacher.params.dispose();
  const means = o.modalities.flatMap((student) =>
    o.variants.map((variant) => {
      const rs = rows.filter((r) => r.variant === variant && r.student === student);
      const avg = (k: 'mAP' | 'NDS' | 'mIoU') => round(rs.reduce((s, r) => s + r[k], 0) / rs.length, 4);
      return { student, variant, mAP: avg('mAP'), NDS: avg('NDS'), mIoU: avg('mIoU') };
    }),
  );
  const cpus = os.cpus();
  return {
    method: 'vexkd',
    ...(o.label ? { label: o.label } : {}),
    fusion: o.fusion,
    students: o.students,
    teacher: teacherReport,
    maskSteps: o.maskSteps,
    seeds: o.seeds,
    steps: o.steps,
    batchSize: o.batchSize,
    lr: o.lr,
    data: { trainFrames: train.length, valFrames: val.length, dataSeed: 0 },
    machine: { cpus: cpus[0]?.model ?? 'unknown', cores: cpus.length, node: process.version, platform: `${os.platform()} ${os.arch()}` },
    rows,
    means,
    elapsedSeconds: round((performance.now() - began) / 1000, 1),
  };
}

/** Per student and variant: mean mAP / NDS / mIoU over seeds and the NDS change against no KD. */
export function formatVexkdTable(r: VexkdBenchReport): string {
  const head = `${'student'.padEnd(8)}${'variant'.padEnd(10)}${'mAP'.padStart(8)}${'NDS'.padStart(8)}${'mIoU'.padStart(8)}${'ΔNDS'.padStart(9)}`;
  const lines = r.means.map((m) => {
    const base = r.means.find((b) => b.student === m.student && b.variant === 'no-kd');
    const d = base ? m.NDS - base.NDS : undefined;
    return `${m.student.padEnd(8)}${m.variant.padEnd(10)}${m.mAP.toFixed(4).padStart(8)}${m.NDS.toFixed(4).padStart(8)}${m.mIoU.toFixed(4).padStart(8)}${(d === undefined ? '' : (d >= 0 ? '+' : '') + d.toFixed(4)).padStart(9)}`;
  });
  return [
    head,
    ...lines,
    '',
    `${r.label ? `${r.label}; ` : ''}teacher ${r.fusion} + MGFM (${r.teacher.steps} steps: mAP ${r.teacher.mAP} NDS ${r.teacher.NDS} mIoU ${r.teacher.mIoU}); mask training ${r.maskSteps} steps; ${r.steps} steps × batch ${r.batchSize}, seeds ${r.seeds.join(',')}; ${r.data.valFrames} validation frames; ${r.elapsedSeconds} s on ${r.machine.cpus} ×${r.machine.cores}`,
    '',
  ].join('\n');
}
