import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { exportOnnx, ParamStore, Pipeline, stripTrainOnly, type Batch, type DataSource, type Graph, type TrainEvent } from '@bevzip/ir';
import { buildBevFusion, frameDataSource, MICRO_CONFIG, syntheticFrames, targetTensors, taskConfigForModel, taskLoss, type HostTargets } from '@bevzip/bev-fusion';
import { onnx } from 'onnx-proto';
import { MODULE_VALUES } from './modules';
import { x3kd } from './plugin';
import { boxesFromTargets, instanceTargets } from './targets';
import type { X3kdInput } from './options';

// A micro camera-only student and a micro LiDAR teacher (fresh weights: these tests are about
// mechanics, not accuracy), on synthetic frames whose batches carry both modalities' feeds.
const student = buildBevFusion(MICRO_CONFIG, 'camera');
const teacherGraph = buildBevFusion(MICRO_CONFIG, 'lidar');
const cameraTask = taskConfigForModel(MICRO_CONFIG, 'camera');
const dataTask = taskConfigForModel(MICRO_CONFIG, 'fusion');
const frames = syntheticFrames(0, 0, 1, 3);
const loss = (outputs: Record<string, tf.Tensor>, batch: Batch) => taskLoss({ heatmap: outputs.heatmap, reg: outputs.reg, map: outputs.map }, targetTensors(batch.targets as HostTargets), cameraTask).total;

function crashing(source: DataSource, at?: number): DataSource {
  return { batch: (step, ctx) => (step === at ? Promise.reject(new Error('simulated crash')) : source.batch(step, ctx)) };
}

async function kd(options: X3kdInput, { steps = 2, dir, crashAt, exportIt = false }: { steps?: number; dir?: string; crashAt?: number; exportIt?: boolean } = {}) {
  const teacher = { graph: teacherGraph, params: ParamStore.init(teacherGraph, 11) };
  const start = ParamStore.init(student, 1);
  const pipeline = new Pipeline({
    seed: 2,
    graph: student,
    params: start,
    stages: [{ name: 'kd', steps, data: crashing(frameDataSource(frames, dataTask, 1, 0), crashAt), taskLoss: loss, teacher, optimizer: { kind: 'adam', lr: 1e-3 } }],
    checkpoint: dir ? { dir, every: 2 } : undefined,
    export: exportIt ? { opset: 17 } : undefined,
  }).use(x3kd(options));
  const events: TrainEvent[] = [];
  const tensors: number[] = [];
  pipeline.events.subscribe((e) => {
    events.push(e);
    if (e.type === 'step') tensors.push(tf.memory().numTensors);
  });
  try {
    return { result: await pipeline.run(), events, tensors };
  } finally {
    teacher.params.dispose();
    start.dispose();
  }
}

const disposeResult = (r: Awaited<ReturnType<typeof kd>>['result']) => {
  r.params.dispose();
  for (const m of [...r.masks.params.values(), ...r.masks.features.values()]) m.dispose();
};

function onnxCounts(model: Uint8Array): { nodes: number; initializerValues: number } {
  const m = onnx.ModelProto.decode(model);
  const size = (t: onnx.ITensorProto) => (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1);
  return { nodes: m.graph!.node!.length, initializerValues: m.graph!.initializer!.reduce((n, t) => n + size(t), 0) };
}

describe('x3kd on a BEVFusion camera student with a LiDAR teacher', () => {
  it('the batches give X-IS real instances in the camera images', async () => {
    const source = frameDataSource(frames, dataTask, 1, 0);
    const b = await source.batch(0, { seed: 2, stage: 'kd' });
    const boxes = boxesFromTargets(b.targets, b.geometry!.grid);
    expect(boxes.length).toBeGreaterThan(0);
    const it = instanceTargets(boxes, b.geometry!.cameras, { h: 8, w: 22 }, 6, 0.2);
    expect(it.instances).toBeGreaterThan(0);
    tf.dispose(Object.values(b.feeds));
  });

  it('trains with all four terms finite, and the tensor count stays flat across steps', async () => {
    const before = tf.memory().numTensors;
    // Default options: λ follows the 'dann' ramp, a new value at each step of the one graph.
    const { result, events, tensors } = await kd({}, { steps: 3 });
    const steps = events.filter((e): e is Extract<TrainEvent, { type: 'step' }> => e.type === 'step');
    expect(steps).toHaveLength(3);
    expect(new Set(tensors).size).toBe(1);
    for (const s of steps) {
      for (const term of ['is', 'fd', 'at', 'od']) {
        expect(Number.isFinite(s.losses[`x3kd/${term}`])).toBe(true);
        expect(s.losses[`x3kd/${term}`]).toBeGreaterThan(0);
      }
    }
    // The discriminator is trained: its weights moved from their initial values.
    const init = ParamStore.init(result.graph, 2);
    const name = result.graph.params.find((p) => p.name.startsWith('x3kd.at.'))!.name;
    expect(Array.from(result.params.get(name).dataSync())).not.toEqual(Array.from(init.get(name).dataSync()));
    init.dispose();
    disposeResult(result);
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
  });

  it('a run killed mid-stage resumes to bit-equal student and train-only weights, λ schedule included', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-x3kd-'));
    // The 'dann' ramp gives λ = 0, 0.848, 0.987, 0.999 at steps 0–3 of 4 (γ = 5, used here: 0, 0.555, 0.848, 0.954);
    // the resumed run restarts at step 2 and must apply that step's λ, not the first step's.
    const o: X3kdInput = { at: { lambdaSchedule: 'dann', gamma: 5 } };
    try {
      const full = await kd(o, { steps: 4, dir: path.join(root, 'a') });
      await expect(kd(o, { steps: 4, dir: path.join(root, 'b'), crashAt: 3 })).rejects.toThrow('simulated crash');
      const resumed = await kd(o, { steps: 4, dir: path.join(root, 'b') });
      expect(resumed.result.resumedFrom).toEqual({ stage: 0, step: 2 });
      expect(resumed.result.graph.nodes.find((n) => n.op === 'grad_reverse')!.attrs).toEqual({ lambda: 1, schedule: 'dann', gamma: 5 });
      const names = full.result.params.names();
      expect(names.filter((n) => n.startsWith('x3kd.')).length).toBeGreaterThan(0);
      expect(resumed.result.params.names().sort()).toEqual([...names].sort());
      for (const n of names) expect([n, Array.from(resumed.result.params.get(n).dataSync())]).toEqual([n, Array.from(full.result.params.get(n).dataSync())]);
      disposeResult(full.result);
      disposeResult(resumed.result);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('the exported student carries none of the train-only parts (ONNX nodes and parameters as the plain student)', async () => {
    const { result } = await kd({}, { steps: 1, exportIt: true });
    expect(result.graph.params.some((p) => p.name.startsWith('x3kd.'))).toBe(true);
    const artifact = result.artifact!;
    expect(artifact.reports.find((r) => r.plugin === 'x3kd')?.summary).toMatch(/X3KD train-only modules \(\d+ params: IS head, BEV decoder, discriminator\) not in the artifact/);
    const plainParams = ParamStore.init(student, 1);
    const plain = onnxCounts(exportOnnx(stripTrainOnly(student as Graph), plainParams, { opset: 17 }));
    const got = onnxCounts(artifact.onnx);
    expect(got).toEqual(plain);
    expect(artifact.graph.values[MODULE_VALUES.atIn]).toBeUndefined();
    plainParams.dispose();
    disposeResult(result);
  });
});
