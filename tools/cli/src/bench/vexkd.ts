import { initBackend, Pipeline, stripTrainOnly } from '@bevzip/ir';
import { BEV_FUSION_CONFIGS, MODEL_INFO_FORMAT, saveModelCheckpoint, syntheticFrames, taskConfigForModel, type EvaluatedSplit, type TaskConfig } from '@bevzip/bev-fusion';
import type { FrameEvaluation } from '@bevzip/driving-data';
import { MGFM_SCOPE, vexkd, vexkdTeacher, type VexkdInput } from '@bevzip/plugin-vexkd';
import { benchValidationFrames, evaluateOnnx, machineInfo, type MethodBenchCommon } from './common';
import { benchStage, loadModelRefFor, logRunProgress, paramCount } from './kd-common';
import { compareModels, renderComparison, type ProtocolComparison } from './protocol';
import { round } from './timing';

export const VEXKD_VARIANTS = ['no-kd', 'full-map', 'vexkd'] as const;
export type VexkdVariant = (typeof VEXKD_VARIANTS)[number];
type Modality = 'camera' | 'lidar';

/** Settings of `bevzip bench vexkd`. */
export interface VexkdBenchOptions extends MethodBenchCommon {
  /** Fusion model the VeXKD teacher starts from (its fuser is replaced by the MGFM and trained). */
  fusion: string;
  students: Record<Modality, string>;
  modalities: Modality[];
  teacherSteps: number;
  /** Peak learning rate of the teacher stage (the fresh fusion module's; cosine to 0). */
  teacherLr: number;
  /** Multiplies the teacher stage's learning rate for the trained parts around the fusion module. */
  teacherRestLrScale: number;
  maskSteps: number;
  seeds: number[];
  steps: number;
  variants: VexkdVariant[];
  /** Also write the trained VeXKD teacher here as a model directory (a pipeline file's `teacher`). */
  teacherOut?: string;
  /** Label written into the report (e.g. the reduced run's reason). */
  label?: string;
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
  teacher: { steps: number; lr: number; restLrScale: number; mAP: number; NDS: number; mIoU: number; seconds: number };
  maskSteps: number;
  seeds: number[];
  steps: number;
  batchSize: number;
  lr: number;
  data: { trainFrames: number; valFrames: number; dataSeed: number; split: EvaluatedSplit };
  machine: ReturnType<typeof machineInfo>;
  rows: VexkdRow[];
  means: { student: Modality; variant: VexkdVariant; mAP: number; NDS: number; mIoU: number }[];
  /** Per student, the protocol's comparison of the variants with no KD (intervals over the validation frames; mIoU as a mean column). */
  comparisons: ({ student: Modality } & ProtocolComparison)[];
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
  o.log(`generating ${o.trainScenes * 3} training frames`);
  const train = syntheticFrames(0, 0, o.trainScenes, 3);
  const { frames: val, split } = benchValidationFrames(o);
  const perFrame = new Map<string, FrameEvaluation[]>();
  const stageOf = (name: string, steps: number, cfg: TaskConfig, seed: number) => benchStage(name, { steps, batchSize: o.batchSize, lr: o.lr, seed }, { train, dataCfg, lossCfg: cfg });

  const t0 = performance.now();
  o.log(`VeXKD teacher: ${o.fusion} with the MGFM, ${o.teacherSteps} steps`);
  // The fusion module starts from random weights inside a trained model: it gets the higher
  // learning rate, the trained encoders, decoder and heads a fraction of it, so that they are not
  // unlearned while the new module's output is still noise.
  const teacherStage = benchStage('vexkd-teacher', { steps: o.teacherSteps, batchSize: o.batchSize, lr: o.teacherLr, seed: 0 }, { train, dataCfg, lossCfg: dataCfg });
  teacherStage.optimizer = { ...teacherStage.optimizer!, groups: [{ selector: { scope: MGFM_SCOPE } }, { lr: o.teacherRestLrScale }] };
  const teacherRun = new Pipeline({ seed: 0, graph: base.graph, params: base.params, stages: [teacherStage], export: { opset: 17 } }).use(vexkdTeacher({}));
  logRunProgress(teacherRun.events, 'teacher', o.teacherSteps, 4, o.log);
  const built = await teacherRun.run();
  base.params.dispose();
  const teacher = { graph: built.graph, params: built.params };
  const tm = await evaluateOnnx(built.artifact!.onnx, val, dataCfg);
  const teacherReport = { steps: o.teacherSteps, lr: o.teacherLr, restLrScale: o.teacherRestLrScale, mAP: round(tm.mAP, 4), NDS: round(tm.NDS, 4), mIoU: round(tm.mIoU, 4), seconds: round((performance.now() - t0) / 1000, 1) };
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
        perFrame.set(`${modality}|${variant}`, [...(perFrame.get(`${modality}|${variant}`) ?? []), m.perFrame]);
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
  o.log('bootstrap intervals');
  const comparisons = o.modalities.map((student) => {
    const { text: _text, ...c } = compareModels(
      o.variants.map((v) => ({ name: v, evals: perFrame.get(`${student}|${v}`)!, extra: { 'mIoU (mean)': means.find((m) => m.student === student && m.variant === v)!.mIoU.toFixed(4) } })),
      { baseline: o.variants.includes('no-kd') ? 'no-kd' : o.variants[0] },
    );
    return { student, ...c };
  });
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
    data: { trainFrames: train.length, valFrames: val.length, dataSeed: 0, split },
    machine: machineInfo(),
    rows,
    means,
    comparisons,
    elapsedSeconds: round((performance.now() - began) / 1000, 1),
  };
}

/** Per student, the variants' mAP / NDS with intervals and the paired differences against no KD, and their mean mIoU. */
export function formatVexkdTable(r: VexkdBenchReport): string {
  return [
    ...r.comparisons.map((c) => renderComparison(c, `${c.student}-only student`)),
    `${r.label ? `${r.label}; ` : ''}teacher ${r.fusion} + MGFM (${r.teacher.steps} steps at lr ${r.teacher.lr}, ×${r.teacher.restLrScale} outside the MGFM: mAP ${r.teacher.mAP} NDS ${r.teacher.NDS} mIoU ${r.teacher.mIoU}); mask training ${r.maskSteps} steps; ${r.steps} steps × batch ${r.batchSize}, seeds ${r.seeds.join(',')}; ${r.data.valFrames} validation frames; ${r.elapsedSeconds} s on ${r.machine.cpus} ×${r.machine.cores}`,
    '',
  ].join('\n');
}
