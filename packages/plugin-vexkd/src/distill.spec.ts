import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { exportOnnx, GraphBuilder, latestCheckpoint, ParamStore, Pipeline, readCheckpoint, stripTrainOnly, type Batch, type DataSource, type Graph, type TrainEvent } from '@bevzip/ir';
import { buildBevFusion, frameDataSource, MICRO_CONFIG, syntheticFrames, targetTensors, taskConfigForModel, taskLoss, type HostTargets } from '@bevzip/bev-fusion';
import { conformance } from '@bevzip/plugin-tester';
import { onnx } from 'onnx-proto';
import { vexkd, type VexkdInput } from './distill';
import { MaskGenerator, maskNetOptions } from './mask-generator';
import type { ConstantParam } from './deform-attn';
import { buildMgfm, mgfmOptions, setConstants, swapFuserForMgfm } from './mgfm';

// Micro models with fresh weights: these tests are about mechanics, not accuracy.
const swapped = swapFuserForMgfm(buildBevFusion(MICRO_CONFIG, 'fusion'), { heads: 2, points: 2 });
const teacherGraph = swapped.graph;
const students = { camera: buildBevFusion(MICRO_CONFIG, 'camera'), lidar: buildBevFusion(MICRO_CONFIG, 'lidar') };
const dataTask = taskConfigForModel(MICRO_CONFIG, 'fusion');
const frames = syntheticFrames(0, 0, 1, 3);
const small: VexkdInput = { student: 'camera', masks: { blocks: 1, perTask: 2, heads: 2, points: 2 }, maskTraining: { steps: 2 } };

function teacherStore(graph: Graph = teacherGraph): ParamStore {
  const p = ParamStore.init(graph, 11);
  if (graph === teacherGraph) setConstants(p, swapped.constants, graph);
  return p;
}

function crashing(source: DataSource, at?: number): DataSource {
  return { batch: (step, ctx) => (step === at ? Promise.reject(new Error('simulated crash')) : source.batch(step, ctx)) };
}

interface KdRun {
  steps?: number;
  dir?: string;
  crashAt?: number;
  exportIt?: boolean;
  teacher?: { graph: Graph; params: ParamStore } | null;
  /** The student model's modality when it differs from the option's. */
  model?: 'camera' | 'lidar';
}

async function kd(options: VexkdInput, { steps = 2, dir, crashAt, exportIt = false, teacher, model }: KdRun = {}) {
  const modality = model ?? options.student;
  const student = students[modality];
  const task = taskConfigForModel(MICRO_CONFIG, modality);
  const loss = (outputs: Record<string, tf.Tensor>, batch: Batch) => taskLoss({ heatmap: outputs.heatmap, reg: outputs.reg, map: outputs.map }, targetTensors(batch.targets as HostTargets), task).total;
  const t = teacher === null ? undefined : (teacher ?? { graph: teacherGraph, params: teacherStore() });
  const start = ParamStore.init(student, 1);
  const pipeline = new Pipeline({
    seed: 2,
    graph: student,
    params: start,
    stages: [{ name: 'kd', steps, data: crashing(frameDataSource(frames, dataTask, 1, 0), crashAt), taskLoss: loss, teacher: t, optimizer: { kind: 'adam', lr: 1e-3 } }],
    checkpoint: dir ? { dir, every: 2 } : undefined,
    export: exportIt ? { opset: 17 } : undefined,
  }).use(vexkd(options));
  const events: TrainEvent[] = [];
  pipeline.events.subscribe((e) => events.push(e));
  try {
    return { result: await pipeline.run(), events };
  } finally {
    if (!teacher) t?.params.dispose();
    start.dispose();
  }
}

const disposeResult = (r: Awaited<ReturnType<typeof kd>>['result']) => {
  r.params.dispose();
  for (const m of [...r.masks.params.values(), ...r.masks.features.values()]) m.dispose();
};
const stepsOf = (events: TrainEvent[]) => events.filter((e): e is Extract<TrainEvent, { type: 'step' }> => e.type === 'step');

/** The mask generators' weights as the checkpoint in `dir` holds them. */
function maskState(dir: string): { json: { trained: boolean; maskLoss: number[] }; tensors: Map<string, number[]> } {
  const c = readCheckpoint(dir);
  const tensors = new Map<string, number[]>([...(c.extraTensors ?? new Map<string, tf.Tensor>())].filter(([k]) => k.startsWith('vexkd/')).map(([k, v]) => [k, Array.from(v.dataSync() as Float32Array)] as const));
  for (const v of (c.extraTensors ?? new Map<string, tf.Tensor>()).values()) v.dispose();
  c.params.dispose();
  return { json: (c.extra as { plugins: Record<string, { trained: boolean; maskLoss: number[] }> }).plugins.vexkd, tensors };
}

function onnxCounts(model: Uint8Array): { nodes: number; initializerValues: number } {
  const m = onnx.ModelProto.decode(model);
  const size = (t: onnx.ITensorProto) => (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1);
  return { nodes: m.graph!.node!.length, initializerValues: m.graph!.initializer!.reduce((n, t) => n + size(t), 0) };
}

describe('vexkd on micro BEVFusion students with an MGFM fusion teacher', () => {
  it.each(['camera', 'lidar'] as const)('%s student: trains the masks, then distils both levels with finite terms; the tensor count stays flat', async (student) => {
    const before = tf.memory().numTensors;
    const { result, events } = await kd({ ...small, student }, { steps: 2 });
    const steps = stepsOf(events);
    expect(steps).toHaveLength(2);
    for (const s of steps) {
      for (const l of ['low', 'high']) {
        expect(Number.isFinite(s.losses[`vexkd/${l}`])).toBe(true);
        expect(s.losses[`vexkd/${l}`]).toBeGreaterThan(0);
      }
    }
    disposeResult(result);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('full-map KD needs no MGFM queries and gives a different loss from the masked one', async () => {
    const full = await kd({ ...small, variant: 'full-map' }, { steps: 1 });
    const masked = await kd(small, { steps: 1 });
    const [f] = stepsOf(full.events);
    const [m] = stepsOf(masked.events);
    expect(f.losses['vexkd/low']).toBeGreaterThan(0);
    expect(f.losses['vexkd/low']).not.toBeCloseTo(m.losses['vexkd/low'], 6);
    disposeResult(full.result);
    disposeResult(masked.result);
  });

  it('gradient only into the student: the masks are trained in score, then frozen; the teacher never changes', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-vexkd-'));
    const teacher = { graph: teacherGraph, params: teacherStore() };
    const teacherBefore = new Map(teacher.params.names().map((n) => [n, Array.from(teacher.params.get(n).dataSync())]));
    try {
      const { result } = await kd(small, { steps: 4, dir: root, teacher });
      const dirs = fs.readdirSync(root).filter((d) => d.startsWith('step-')).sort();
      const first = maskState(path.join(root, dirs[0]));
      const last = maskState(latestCheckpoint(root)!);
      expect(first.json.trained).toBe(true);
      expect(first.json.maskLoss).toHaveLength(2);
      expect(first.tensors.size).toBeGreaterThan(0);
      // Trained: the generator weights moved from their initial values (seed = run seed + level).
      const init = new MaskGenerator({ queryGrid: [32, 32], width: 16, map: [32, 32, 16], tasks: 2 }, maskNetOptions.parse(small.masks), 2);
      const head = init.params.names().find((n) => n.endsWith('head.weight'))!;
      expect(first.tensors.get(`low/${head}`)).not.toEqual(Array.from(init.params.get(head).dataSync()));
      init.dispose();
      // Frozen while distilling: identical after two more steps.
      expect([...last.tensors.keys()]).toEqual([...first.tensors.keys()]);
      for (const [k, v] of first.tensors) expect([k, last.tensors.get(k)]).toEqual([k, v]);
      for (const [n, v] of teacherBefore) expect(Array.from(teacher.params.get(n).dataSync())).toEqual(v);
      disposeResult(result);
    } finally {
      teacher.params.dispose();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('a run killed mid-stage resumes to bit-equal student weights with the same masks', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-vexkd-'));
    try {
      const full = await kd(small, { steps: 4, dir: path.join(root, 'a') });
      await expect(kd(small, { steps: 4, dir: path.join(root, 'b'), crashAt: 3 })).rejects.toThrow('simulated crash');
      const resumed = await kd(small, { steps: 4, dir: path.join(root, 'b') });
      expect(resumed.result.resumedFrom).toEqual({ stage: 0, step: 2 });
      // The resumed stage skipped score: its masks came from the plugin state, and its losses match.
      expect(stepsOf(resumed.events).map((s) => s.losses)).toEqual(stepsOf(full.events).slice(2).map((s) => s.losses));
      const names = full.result.params.names();
      for (const n of names) expect([n, Array.from(resumed.result.params.get(n).dataSync())]).toEqual([n, Array.from(full.result.params.get(n).dataSync())]);
      const a = maskState(latestCheckpoint(path.join(root, 'a'))!);
      const b = maskState(latestCheckpoint(path.join(root, 'b'))!);
      expect(b.tensors).toEqual(a.tensors);
      disposeResult(full.result);
      disposeResult(resumed.result);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('the exported student has exactly the plain student ONNX node and parameter counts', async () => {
    const { result } = await kd({ ...small, student: 'lidar' }, { steps: 1, exportIt: true });
    const artifact = result.artifact!;
    expect(artifact.reports.find((r) => r.plugin === 'vexkd')?.summary).toMatch(/VeXKD mask generators \(\d+ params, 1 blocks × 2 levels\) and the teacher not in the artifact/);
    const plainParams = ParamStore.init(students.lidar, 1);
    expect(onnxCounts(artifact.onnx)).toEqual(onnxCounts(exportOnnx(stripTrainOnly(students.lidar), plainParams, { opset: 17 })));
    plainParams.dispose();
    disposeResult(result);
  });

  describe('bad options and models fail before training, naming the option and what was expected', () => {
    // The data fails on its first batch: an error other than that one came before any training.
    const fails = (options: VexkdInput, run: KdRun, pattern: RegExp) => expect(kd(options, { steps: 1, crashAt: 0, ...run })).rejects.toThrow(pattern);
    it('an unknown student tap', () => fails({ ...small, studentHighTap: 'decoder.nowhere' }, {}, /option 'studentHighTap': the student graph '[^']+' has no value 'decoder.nowhere'; expected a BEV feature/));
    it('an unknown teacher tap', () => fails({ ...small, teacherHighTap: 'nope' }, {}, /option 'teacherHighTap': the teacher graph '[^']+' has no value 'nope'; expected its BEV-encoder output/));
    it('a student of the other modality', () => fails({ ...small, student: 'lidar' }, { model: 'camera' }, /option 'student': 'lidar', but the student graph '[^']+' is a 'camera' model/));
    it('a LiDAR-only teacher', async () => {
      const g = buildBevFusion(MICRO_CONFIG, 'lidar');
      const params = ParamStore.init(g, 3);
      await fails(small, { teacher: { graph: g, params } }, /the teacher '[^']+' is a 'lidar' model; expected a camera\+LiDAR fusion teacher/);
      params.dispose();
    });
    it('a fusion teacher without the fusion module', async () => {
      const g = buildBevFusion(MICRO_CONFIG, 'fusion');
      const params = ParamStore.init(g, 3);
      await fails(small, { teacher: { graph: g, params } }, /option 'teacherLowTap': the teacher graph '[^']+' has no value 'fuser.mgfm.fused'; expected its low-level \(fused\) BEV/);
      params.dispose();
    });
    it('no teacher', () => fails(small, { teacher: null }, /stage 'kd' has no teacher; expected the VeXKD teacher \(pipeline field 'teacher'/));
  });
});

/**
 * The harness feeds random floats and uses the graph itself as the teacher, so conformance runs on a
 * toy with the values VeXKD taps: a camera and a LiDAR BEV, the MGFM on them, a BEV encoder and
 * the three heads.
 */
function toyFusion(): { graph: Graph; constants: ConstantParam[] } {
  const b = new GraphBuilder('toy-fusion');
  const conv = (x: string, name: string, cin: number, cout: number) =>
    b.op('conv2d', [x, b.param(`${name}.weight`, [3, 3, cin, cout]), b.param(`${name}.bias`, [cout], { role: 'bias' })], { pad: 'same' }, { name });
  const cam = b.scoped('encoders.camera.vtransform', { modality: 'camera', stage: 'view' }, () => conv(b.input('cam_in', [-1, 4, 4, 3]), 'bev_pool', 3, 4));
  const lidar = b.scoped('encoders.lidar.backbone', { modality: 'lidar', stage: 'backbone' }, () => conv(b.input('lidar_in', [-1, 4, 4, 3]), 'scatter', 3, 4));
  const constants: ConstantParam[] = [];
  const { fused } = buildMgfm(b, cam, lidar, 4, mgfmOptions.parse({ heads: 1, points: 2 }), constants);
  const bev = b.scoped('decoder.neck', { modality: 'fusion', stage: 'decoder' }, () => b.op('avg_pool2d', [conv(fused, 'conv', 4, 4)], { kernel: 2, strides: 2 }, { name: 'concat' }));
  b.output(conv(bev, 'heatmap', 4, 2), conv(bev, 'reg', 4, 3), conv(fused, 'map', 4, 2));
  return { graph: b.build(), constants };
}

const toy = toyFusion();
conformance('vexkd', vexkd, {
  graph: toy.graph,
  options: { student: 'camera', studentHighTap: 'decoder.neck.concat', teacherHighTap: 'decoder.neck.concat', masks: { blocks: 1, heads: 1, points: 2 }, maskTraining: { steps: 1 } } as VexkdInput,
  badOptions: [{}, { student: 'fusion' }, { student: 'camera', variant: 'gaussian' }, { student: 'camera', tasks: [] }, { student: 'camera', maskTraining: { steps: 0 } }, { student: 'camera', bogus: 1 }],
});
