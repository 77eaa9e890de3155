import { exportOnnx, initBackend, Pipeline, stripTrainOnly } from '@bevzip/ir';
import { BEV_FUSION_CONFIGS, syntheticFrames, taskConfigForModel, type EvaluatedSplit } from '@bevzip/bev-fusion';
import type { FrameEvaluation } from '@bevzip/driving-data';
import { SETTINGS, settingModalities, unidistill, type Setting, type UnidistillInput } from '@bevzip/plugin-unidistill';
import { benchValidationFrames, evaluateOnnx, machineInfo, type MethodBenchCommon } from './common';
import { benchStage, loadModelRefFor, logRunProgress, onnxCounts, paramCount } from './kd-common';
import { compareModels, renderComparison, type ProtocolComparison } from './protocol';
import { round } from './timing';

/** The ablation rows: no KD, each term alone, all three. */
export const UNIDISTILL_VARIANTS = ['no-kd', 'feature', 'relation', 'response', 'all'] as const;
export type UnidistillVariant = (typeof UNIDISTILL_VARIANTS)[number];
export { SETTINGS as UNIDISTILL_SETTINGS };

/** Settings of `bevzip bench unidistill`. */
export interface UnidistillBenchOptions extends MethodBenchCommon {
  /** Student starts per modality: a checkpoint or `random:<config>` (from scratch). */
  cameraStudent: string;
  lidarStudent: string;
  /** Frozen teachers per modality. */
  cameraTeacher: string;
  lidarTeacher: string;
  fusionTeacher: string;
  settings: Setting[];
  variants: UnidistillVariant[];
  seeds: number[];
  steps: number;
  /** Extra plugin options merged into every KD run (e.g. `{ feature: { gradientShare: 0.25 } }`); the terms' `enabled` still follows the variant. */
  unidistillOptions?: Record<string, unknown>;
}

/** The full-length configuration (`bevzip bench unidistill` without options); a run that differs is labelled reduced. */
export const UNIDISTILL_FULL = {
  settings: [...SETTINGS],
  variants: [...UNIDISTILL_VARIANTS],
  seeds: [0, 1],
  steps: 300,
  batchSize: 2,
  trainScenes: 16,
  /** All of the standard validation split. */
  valFrames: undefined as number | undefined,
};

export interface UnidistillRow {
  setting: Setting;
  variant: UnidistillVariant;
  seed: number;
  mAP: number;
  NDS: number;
  /** Parameters (running statistics excluded) and ONNX nodes of the exported student; its ONNX nodes and initializers equal the plain student's (asserted). */
  exportedParams: number;
  onnxNodes: number;
  seconds: number;
}

export interface UnidistillBenchReport {
  method: 'unidistill';
  /** True when any setting differs from {@link UNIDISTILL_FULL}; `reductions` says how. */
  reduced: boolean;
  reductions: string[];
  models: Record<'cameraStudent' | 'lidarStudent' | 'cameraTeacher' | 'lidarTeacher' | 'fusionTeacher', string>;
  settings: Setting[];
  variants: UnidistillVariant[];
  seeds: number[];
  steps: number;
  batchSize: number;
  lr: number;
  data: { trainFrames: number; valFrames: number; dataSeed: number; split: EvaluatedSplit };
  machine: ReturnType<typeof machineInfo>;
  /** Per setting, the student before any training of this bench, and the teacher. */
  start: { setting: Setting; student: { mAP: number; NDS: number; params: number }; teacher: { mAP: number; NDS: number } }[];
  rows: UnidistillRow[];
  /** Mean over seeds per setting and variant. */
  means: { setting: Setting; variant: UnidistillVariant; mAP: number; NDS: number }[];
  /** Per setting, the protocol's comparison of the variants with that setting's no-KD student (intervals over the validation frames). */
  comparisons: ({ setting: Setting } & ProtocolComparison)[];
  elapsedSeconds: number;
}

function optionsFor(setting: Setting, v: UnidistillVariant, extra: Record<string, unknown> = {}): UnidistillInput | undefined {
  if (v === 'no-kd') return undefined;
  const on = (k: 'feature' | 'relation' | 'response') => ({ ...(extra[k] as object | undefined), enabled: v === 'all' || v === k });
  return { ...extra, setting, feature: on('feature'), relation: on('relation'), response: on('response') } as UnidistillInput;
}

function reductions(o: UnidistillBenchOptions): string[] {
  const out: string[] = [];
  const diff = (name: string, got: unknown, full: unknown) => {
    if (JSON.stringify(got) !== JSON.stringify(full)) out.push(`${name}: ${JSON.stringify(got)} (full: ${JSON.stringify(full)})`);
  };
  diff('settings', o.settings, UNIDISTILL_FULL.settings);
  diff('variants', o.variants, UNIDISTILL_FULL.variants);
  diff('seeds', o.seeds, UNIDISTILL_FULL.seeds);
  diff('steps', o.steps, UNIDISTILL_FULL.steps);
  diff('batchSize', o.batchSize, UNIDISTILL_FULL.batchSize);
  diff('trainScenes', o.trainScenes, UNIDISTILL_FULL.trainScenes);
  diff('valFrames', o.valFrames, UNIDISTILL_FULL.valFrames);
  if (o.unidistillOptions) out.push(`plugin options ${JSON.stringify(o.unidistillOptions)}`);
  return out;
}

/**
 * The UniDistill ablation over the four teacher → student settings: each student fine-tuned for the
 * same steps and seeds with no KD, with each of the feature, relation and response terms alone, and
 * with all three (the setting's default weights, adapters on). Every student is exported (adapters
 * stripped; its parameter count is asserted equal to the plain student's) and evaluated in
 * onnxruntime on the standard validation split; each setting's table has the protocol's intervals.
 */
export async function benchUnidistill(o: UnidistillBenchOptions): Promise<UnidistillBenchReport> {
  const began = performance.now();
  await initBackend({});
  const refs = { cameraStudent: o.cameraStudent, lidarStudent: o.lidarStudent, cameraTeacher: o.cameraTeacher, lidarTeacher: o.lidarTeacher, fusionTeacher: o.fusionTeacher };
  o.log(`generating ${o.trainScenes * 3} training frames`);
  const train = syntheticFrames(0, 0, o.trainScenes, 3);
  const { frames: val, split } = benchValidationFrames(o);
  const perFrame = new Map<string, FrameEvaluation[]>();
  const key = (setting: Setting, variant: UnidistillVariant) => `${setting}|${variant}`;
  const rows: UnidistillRow[] = [];
  const start: UnidistillBenchReport['start'] = [];
  for (const setting of o.settings) {
    const m = settingModalities(setting);
    const student = loadModelRefFor(m.student === 'camera' ? o.cameraStudent : o.lidarStudent, m.student);
    const teacher = loadModelRefFor(m.teacher === 'camera' ? o.cameraTeacher : m.teacher === 'lidar' ? o.lidarTeacher : o.fusionTeacher, m.teacher);
    try {
      const meta = student.graph.meta as { config: (typeof BEV_FUSION_CONFIGS)['tiny']; modality: string };
      const teacherMeta = teacher.graph.meta as { config: (typeof BEV_FUSION_CONFIGS)['tiny']; modality: string };
      if (meta.modality !== m.student || teacherMeta.modality !== m.teacher) {
        throw new Error(`bench unidistill: setting '${setting}' needs a ${m.student} student and a ${m.teacher} teacher, got ${meta.modality} and ${teacherMeta.modality}`);
      }
      const cfg = taskConfigForModel(meta.config, m.student as 'camera' | 'lidar');
      const dataCfg = taskConfigForModel(meta.config, 'fusion');
      const plain = stripTrainOnly(student.graph);
      const plainParams = paramCount(plain);
      const plainOnnx = exportOnnx(plain, student.params, { opset: 17 });
      const plainCounts = onnxCounts(plainOnnx);
      const s0 = await evaluateOnnx(plainOnnx, val, cfg);
      const t0 = await evaluateOnnx(exportOnnx(stripTrainOnly(teacher.graph), teacher.params), val, taskConfigForModel(teacherMeta.config, m.teacher));
      start.push({ setting, student: { mAP: round(s0.mAP, 4), NDS: round(s0.NDS, 4), params: plainParams }, teacher: { mAP: round(t0.mAP, 4), NDS: round(t0.NDS, 4) } });
      o.log(`${setting}: student start mAP ${s0.mAP.toFixed(4)} NDS ${s0.NDS.toFixed(4)}; teacher mAP ${t0.mAP.toFixed(4)} NDS ${t0.NDS.toFixed(4)}`);
      for (const seed of o.seeds) {
        for (const variant of o.variants) {
          const began1 = performance.now();
          const kd = optionsFor(setting, variant, o.unidistillOptions);
          const pipeline = new Pipeline({
            seed,
            graph: student.graph,
            params: student.params,
            // Both modalities' feeds in every batch, so any teacher runs on the student's data.
            stages: [benchStage('unidistill', { ...o, seed }, { train, dataCfg, lossCfg: cfg }, kd ? teacher : undefined)],
            export: { opset: 17 },
          });
          if (kd) pipeline.use(unidistill(kd));
          logRunProgress(pipeline.events, `${setting} ${variant} seed ${seed}`, o.steps, 3, o.log);
          const result = await pipeline.run();
          const artifact = result.artifact!;
          const counts = onnxCounts(artifact.onnx);
          if (counts.nodes !== plainCounts.nodes || counts.initializerValues !== plainCounts.initializerValues) {
            throw new Error(`bench unidistill: the exported ${setting} '${variant}' student has ${counts.nodes} ONNX nodes and ${counts.initializerValues} initializer values, the plain student ${plainCounts.nodes} and ${plainCounts.initializerValues}: train-only parts reached the artifact`);
          }
          const metrics = await evaluateOnnx(artifact.onnx, val, cfg);
          perFrame.set(key(setting, variant), [...(perFrame.get(key(setting, variant)) ?? []), metrics.perFrame]);
          result.params.dispose();
          for (const t of [...result.masks.params.values(), ...result.masks.features.values()]) t.dispose();
          const row = { setting, variant, seed, mAP: round(metrics.mAP, 4), NDS: round(metrics.NDS, 4), exportedParams: paramCount(artifact.graph), onnxNodes: counts.nodes, seconds: round((performance.now() - began1) / 1000, 1) };
          rows.push(row);
          o.log(`${setting} ${variant.padEnd(8)} seed ${seed}: mAP ${row.mAP.toFixed(4)} NDS ${row.NDS.toFixed(4)} (${row.seconds} s)`);
        }
      }
    } finally {
      student.params.dispose();
      teacher.params.dispose();
    }
  }
  const means = o.settings.flatMap((setting) =>
    o.variants.map((variant) => {
      const rs = rows.filter((r) => r.setting === setting && r.variant === variant);
      const avg = (k: 'mAP' | 'NDS') => round(rs.reduce((s, r) => s + r[k], 0) / rs.length, 4);
      return { setting, variant, mAP: avg('mAP'), NDS: avg('NDS') };
    }),
  );
  o.log('bootstrap intervals');
  const comparisons = o.settings.map((setting) => {
    const { text: _text, ...c } = compareModels(
      o.variants.map((v) => ({ name: v, evals: perFrame.get(key(setting, v))! })),
      { baseline: o.variants.includes('no-kd') ? 'no-kd' : o.variants[0] },
    );
    return { setting, ...c };
  });
  const reduced = reductions(o);
  return {
    method: 'unidistill',
    reduced: reduced.length > 0,
    reductions: reduced,
    models: refs,
    settings: o.settings,
    variants: o.variants,
    seeds: o.seeds,
    steps: o.steps,
    batchSize: o.batchSize,
    lr: o.lr,
    data: { trainFrames: train.length, valFrames: val.length, dataSeed: 0, split },
    machine: machineInfo(),
    start,
    rows,
    means,
    comparisons,
    elapsedSeconds: round((performance.now() - began) / 1000, 1),
  };
}

/** Per setting, the variants' mAP / NDS with intervals and the paired differences against that setting's no-KD student. */
export function formatUnidistillTable(r: UnidistillBenchReport): string {
  const starts = r.start.map((s) => `${s.setting}: student start mAP ${s.student.mAP.toFixed(4)} NDS ${s.student.NDS.toFixed(4)}, teacher mAP ${s.teacher.mAP.toFixed(4)} NDS ${s.teacher.NDS.toFixed(4)}`);
  return [
    ...r.comparisons.map((c) => renderComparison(c, c.setting)),
    ...starts,
    `${r.reduced ? `REDUCED run (${r.reductions.join('; ')})` : 'full run'}: ${r.steps} steps × batch ${r.batchSize}, seeds ${r.seeds.join(',')}; ${r.data.valFrames} validation frames; ${r.elapsedSeconds} s on ${r.machine.cpus} ×${r.machine.cores}`,
    '',
  ].join('\n');
}
