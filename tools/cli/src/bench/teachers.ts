import * as fs from 'node:fs';
import * as path from 'node:path';
import { initBackend } from '@bevzip/ir';
import { evaluateCheckpoint, loadModelCheckpoint, syntheticFrames, type CheckpointEvaluation } from '@bevzip/bev-fusion';
import { withIntervals, type EvalWithIntervals } from '../commands/eval';
import { machineInfo } from './common';
import { compareModels, renderComparison, type ProtocolComparison } from './protocol';

/** The three shipped teachers, in the order the table shows them. */
export const TEACHER_NAMES = ['tiny-camera', 'tiny-lidar', 'tiny-fusion'] as const;
type TeacherName = (typeof TEACHER_NAMES)[number];

/** Options of {@link benchTeachers}. */
export interface TeachersBenchOptions {
  /** Model reference of each teacher (default `builtin:<name>`). */
  refs?: Partial<Record<TeacherName, string>>;
  /** Only the first N frames of the standard validation split. */
  valFrames?: number;
  /** Training scenes (3 frames each, from scene 0 of data seed 0: frames every teacher trained on). */
  trainScenes: number;
  /** Folder with the training event logs `<name>.jsonl` (as `npm run teachers` writes them), for learning curves. */
  curves?: string;
  log: (line: string) => void;
}

const HEADLINE = ['mAP', 'NDS', 'mIoU'] as const;
type Headline = Record<(typeof HEADLINE)[number], number>;
type WithInterval = Record<(typeof HEADLINE)[number], { value: number; lo: number; hi: number }>;

/** One point of a learning curve: validation metrics at a step, and the mean task loss since the previous point. */
export interface CurvePoint extends Headline {
  step: number;
  trainLoss: number;
}

/** One teacher's row of the report. */
export interface TeacherRow {
  name: TeacherName;
  ref: string;
  modality: string;
  training: { steps: number; batchSize: number; lr: number; stream: boolean; framesSeen: number; wallMinutes?: number };
  val: WithInterval & { frames: number };
  train: WithInterval & { frames: number };
  /** Train minus val, per metric: how far the teacher fits its training data better than new scenes. */
  generalizationGap: Headline;
  curve?: CurvePoint[];
}

/** What `bevzip bench teachers` reports. */
export interface TeachersReport {
  machine: ReturnType<typeof machineInfo>;
  teachers: TeacherRow[];
  /** Paired comparison on the validation frames, LiDAR-only as the baseline. */
  comparison: ProtocolComparison;
  /** The targets, read off the rows above. */
  checks: {
    fusionMapAtLeast030: boolean;
    fusionNdsAtLeast030: boolean;
    /** mAP intervals of fusion and LiDAR-only, and of LiDAR-only and camera-only, do not overlap. */
    fusionOverLidarDisjoint: boolean;
    lidarOverCameraDisjoint: boolean;
  };
  seconds: number;
}

const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

function withCi(e: EvalWithIntervals): WithInterval & { frames: number } {
  const one = (k: (typeof HEADLINE)[number]) => ({ value: r4(e[k]), lo: r4(e.intervals[k]?.lo ?? Number.NaN), hi: r4(e.intervals[k]?.hi ?? Number.NaN) });
  return { mAP: one('mAP'), NDS: one('NDS'), mIoU: one('mIoU'), frames: e.frames };
}

/** Validation metrics by step and the mean task loss of the steps before each, read from a training event log. */
export function learningCurve(jsonl: string): CurvePoint[] {
  const metrics = new Map<number, Partial<Headline>>();
  const losses: { step: number; loss: number }[] = [];
  for (const line of jsonl.split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line) as { type: string; step?: number; name?: string; value?: number; losses?: { task?: number } };
    if (e.type === 'step' && typeof e.losses?.task === 'number') losses.push({ step: e.step!, loss: e.losses.task });
    if (e.type === 'metric' && e.name?.startsWith('val/')) {
      const key = e.name.slice(4) as keyof Headline;
      if (!HEADLINE.includes(key)) continue;
      metrics.set(e.step!, { ...metrics.get(e.step!), [key]: e.value });
    }
  }
  const steps = [...metrics.keys()].sort((a, b) => a - b);
  return steps.map((step, i) => {
    const from = i === 0 ? 0 : steps[i - 1];
    const window = losses.filter((l) => l.step >= from && l.step < step);
    const m = metrics.get(step)!;
    return {
      step,
      trainLoss: r4(window.reduce((a, l) => a + l.loss, 0) / Math.max(window.length, 1)),
      mAP: r4(m.mAP ?? Number.NaN),
      NDS: r4(m.NDS ?? Number.NaN),
      mIoU: r4(m.mIoU ?? Number.NaN),
    };
  });
}

/** Minutes from the first to the last event of a log. */
function wallMinutes(jsonl: string): number | undefined {
  const times = jsonl
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => Date.parse((JSON.parse(l) as { time?: string }).time ?? ''))
    .filter(Number.isFinite);
  return times.length > 1 ? Math.round((times[times.length - 1] - times[0]) / 600) / 100 : undefined;
}

/**
 * Evaluates the three teachers on the standard validation split and on training scenes, with 95%
 * bootstrap intervals, compares them paired on the validation frames, and adds the learning curves
 * of their training logs when given.
 */
export async function benchTeachers(o: TeachersBenchOptions): Promise<TeachersReport> {
  const started = Date.now();
  await initBackend({ quiet: true });
  o.log(`generating ${o.trainScenes * 3} training frames (scenes 0–${o.trainScenes - 1})`);
  const trainFrames = syntheticFrames(0, 0, o.trainScenes, 3);
  const rows: TeacherRow[] = [];
  const vals: Record<string, CheckpointEvaluation> = {};
  for (const name of TEACHER_NAMES) {
    const ref = o.refs?.[name] ?? `builtin:${name}`;
    const ck = loadModelCheckpoint(ref);
    const info = ck.info;
    ck.params.dispose();
    o.log(`${name}: evaluating ${ref}`);
    const val = await evaluateCheckpoint(ref, { valFrames: o.valFrames, log: o.log, warn: (w) => o.log(`warning: ${w}`) });
    const train = await evaluateCheckpoint(ref, { frames: trainFrames });
    vals[name] = val;
    const t = (info.training ?? {}) as { steps?: number; batchSize?: number; lr?: number; data?: { stream?: boolean; trainFrames?: number } };
    const stream = t.data?.stream === true;
    const steps = t.steps ?? 0;
    const batchSize = t.batchSize ?? 0;
    const log = o.curves ? path.join(o.curves, `${name}.jsonl`) : undefined;
    const events = log && fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : undefined;
    const [v, tr] = [withCi(withIntervals(val)), withCi(withIntervals(train))];
    rows.push({
      name,
      ref,
      modality: info.modality,
      training: { steps, batchSize, lr: t.lr ?? 0, stream, framesSeen: stream ? steps * batchSize : (t.data?.trainFrames ?? 0), wallMinutes: events ? wallMinutes(events) : undefined },
      val: v,
      train: tr,
      generalizationGap: { mAP: r4(tr.mAP.value - v.mAP.value), NDS: r4(tr.NDS.value - v.NDS.value), mIoU: r4(tr.mIoU.value - v.mIoU.value) },
      curve: events ? learningCurve(events) : undefined,
    });
  }
  const { text: _text, ...comparison } = compareModels(
    TEACHER_NAMES.map((n) => ({ name: n, evals: [vals[n].perFrame] })),
    { baseline: 'tiny-lidar' },
  );
  const row = (n: TeacherName) => rows.find((r) => r.name === n)!;
  const disjointAbove = (a: TeacherName, b: TeacherName) => row(a).val.mAP.lo > row(b).val.mAP.hi;
  return {
    machine: machineInfo(),
    teachers: rows,
    comparison,
    checks: {
      fusionMapAtLeast030: row('tiny-fusion').val.mAP.value >= 0.3,
      fusionNdsAtLeast030: row('tiny-fusion').val.NDS.value >= 0.3,
      fusionOverLidarDisjoint: disjointAbove('tiny-fusion', 'tiny-lidar'),
      lidarOverCameraDisjoint: disjointAbove('tiny-lidar', 'tiny-camera'),
    },
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
}

const ci = (c: { value: number; lo: number; hi: number }) => `${c.value.toFixed(4)} [${c.lo.toFixed(4)}, ${c.hi.toFixed(4)}]`;

/** The printed report: val and train metrics per teacher, the paired comparison, the curves and the checks. */
export function formatTeachersTable(r: TeachersReport): string {
  const lines = [
    'teacher      steps  frames seen  val mAP [95% CI]          val NDS [95% CI]          val mIoU   train mAP  train NDS  gap mAP',
    ...r.teachers.map((t) =>
      [
        t.name.padEnd(11),
        String(t.training.steps).padStart(6),
        String(t.training.framesSeen).padStart(12),
        ' ' + ci(t.val.mAP).padEnd(25),
        ci(t.val.NDS).padEnd(25),
        t.val.mIoU.value.toFixed(4).padEnd(10),
        t.train.mAP.value.toFixed(4).padEnd(10),
        t.train.NDS.value.toFixed(4).padEnd(10),
        (t.generalizationGap.mAP >= 0 ? '+' : '') + t.generalizationGap.mAP.toFixed(4),
      ].join(' '),
    ),
    '',
    renderComparison(r.comparison, 'paired on the validation frames'),
    `validation: ${r.teachers[0]?.val.frames} frames; training: ${r.teachers[0]?.train.frames} frames the teachers trained on`,
  ];
  for (const t of r.teachers) {
    if (!t.curve?.length) continue;
    lines.push(`${t.name} curve (step: val mAP / NDS / mIoU, mean train loss):`);
    for (const p of t.curve) lines.push(`  ${String(p.step).padStart(5)}: ${p.mAP.toFixed(4)} / ${p.NDS.toFixed(4)} / ${p.mIoU.toFixed(4)}, ${p.trainLoss.toFixed(3)}`);
  }
  lines.push(
    '',
    `fusion mAP ≥ 0.30: ${r.checks.fusionMapAtLeast030 ? 'yes' : 'no'}; fusion NDS ≥ 0.30: ${r.checks.fusionNdsAtLeast030 ? 'yes' : 'no'}`,
    `mAP intervals disjoint: fusion > LiDAR ${r.checks.fusionOverLidarDisjoint ? 'yes' : 'no'}, LiDAR > camera ${r.checks.lidarOverCameraDisjoint ? 'yes' : 'no'}`,
    `(${r.seconds} s)`,
    '',
  );
  return lines.join('\n');
}
