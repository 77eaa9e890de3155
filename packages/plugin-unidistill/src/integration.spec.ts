import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { exportOnnx, ParamStore, Pipeline, stripTrainOnly, type Batch, type DataSource, type Graph, type TrainEvent } from '@bevzip/ir';
import { buildBevFusion, frameDataSource, MICRO_CONFIG, syntheticFrames, targetTensors, taskConfigForModel, taskLoss, type HostTargets } from '@bevzip/bev-fusion';
import { onnx } from 'onnx-proto';
import { batchKeypoints } from './keypoints';
import { unidistill } from './plugin';
import { SETTINGS, settingModalities, type Setting, type UnidistillInput } from './options';

// Micro BEVFusion students and teachers (fresh weights: these tests are about mechanics, not
// accuracy), on synthetic frames whose batches carry every modality's feeds and the boxes.
const models = { camera: buildBevFusion(MICRO_CONFIG, 'camera'), lidar: buildBevFusion(MICRO_CONFIG, 'lidar'), fusion: buildBevFusion(MICRO_CONFIG, 'fusion') };
const dataTask = taskConfigForModel(MICRO_CONFIG, 'fusion');
const frames = syntheticFrames(0, 0, 1, 3);

function crashing(source: DataSource, at?: number): DataSource {
  return { batch: (step, ctx) => (step === at ? Promise.reject(new Error('simulated crash')) : source.batch(step, ctx)) };
}

async function kd(options: UnidistillInput & { setting: Setting }, { steps = 2, dir, crashAt, exportIt = false, termGradientEvery }: { steps?: number; dir?: string; crashAt?: number; exportIt?: boolean; termGradientEvery?: number } = {}) {
  const m = settingModalities(options.setting);
  const student = models[m.student];
  const task = taskConfigForModel(MICRO_CONFIG, m.student as 'camera' | 'lidar');
  const loss = (outputs: Record<string, tf.Tensor>, batch: Batch) => taskLoss({ heatmap: outputs.heatmap, reg: outputs.reg, map: outputs.map }, targetTensors(batch.targets as HostTargets), task).total;
  const teacher = { graph: models[m.teacher], params: ParamStore.init(models[m.teacher], 11) };
  const start = ParamStore.init(student, 1);
  const pipeline = new Pipeline({
    seed: 2,
    graph: student,
    params: start,
    stages: [{ name: 'kd', steps, data: crashing(frameDataSource(frames, dataTask, 2, 0), crashAt), taskLoss: loss, teacher, optimizer: { kind: 'adam', lr: 1e-3 }, termGradientEvery }],
    checkpoint: dir ? { dir, every: 2 } : undefined,
    export: exportIt ? { opset: 17 } : undefined,
  }).use(unidistill(options));
  const events: TrainEvent[] = [];
  const live: number[] = [];
  pipeline.events.subscribe((e) => {
    events.push(e);
    if (e.type === 'step') live.push(tf.memory().numTensors);
  });
  try {
    return { result: await pipeline.run(), events, student, live };
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

const stepsOf = (events: TrainEvent[]) => events.filter((e): e is Extract<TrainEvent, { type: 'step' }> => e.type === 'step');

describe('unidistill on BEVFusion students and teachers', () => {
  it('the batches carry boxes whose keypoints fall on the low-level BEV map', async () => {
    const b = await frameDataSource(frames, dataTask, 2, 0).batch(0, { seed: 2, stage: 'kd' });
    expect(b.boxes!.flat().length).toBeGreaterThan(0);
    const [rows, cols] = models.camera.values['encoders.camera.vtransform.bev_pool'].shape.slice(1, 3);
    const k = batchKeypoints(b.boxes!, { rows, cols }, b.geometry!.grid);
    let inside = 0;
    for (let i = 0; i < k.points.length; i += 2) if (k.points[i] >= 0 && k.points[i] <= rows - 1 && k.points[i + 1] >= 0 && k.points[i + 1] <= cols - 1) inside++;
    expect(inside / (k.count * 9)).toBeGreaterThan(0.9);
    tf.dispose(Object.values(b.feeds));
  });

  it('L→C trains with all three terms finite and positive, and the tensor count stays flat', async () => {
    const before = tf.memory().numTensors;
    const { result, events, live } = await kd({ setting: 'lidar->camera' }, { steps: 4 });
    const steps = stepsOf(events);
    expect(steps).toHaveLength(4);
    // Live tensors after each step (the optimizer's slots exist from the first step on).
    expect(new Set(live.slice(1)).size).toBe(1);
    for (const s of steps) for (const term of ['feature', 'relation', 'response']) expect([term, s.losses[`unidistill/${term}`] > 0 && Number.isFinite(s.losses[`unidistill/${term}`])]).toEqual([term, true]);
    // The adapters train: their weights left the identity.
    const w = result.params.get('unidistill.adapter.low.weight');
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(w, tf.eye(w.shape[2]!, w.shape[3]).reshape(w.shape)))).dataSync()[0])).toBeGreaterThan(0);
    disposeResult(result);
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
  });

  it('a term with gradientShare gets the weight that gives it that share of the task gradient', async () => {
    const { result, events } = await kd({ setting: 'lidar->camera', feature: { gradientShare: 0.1 }, relation: { enabled: false }, response: { enabled: false } }, { steps: 2, termGradientEvery: 1 });
    const weight = events.find((e) => e.type === 'metric' && e.name === 'weight/unidistill/feature') as Extract<TrainEvent, { type: 'metric' }> | undefined;
    expect(weight?.value).toBeGreaterThan(0);
    const [first] = stepsOf(events);
    expect(first.termGradNorms!['unidistill/feature'] / first.termGradNorms!.task).toBeCloseTo(0.1, 3);
    disposeResult(result);
  });

  it.each(SETTINGS.filter((s) => s !== 'lidar->camera'))('%s runs a step with every term', async (setting) => {
    const { result, events } = await kd({ setting }, { steps: 1 });
    const [s] = stepsOf(events);
    for (const term of ['feature', 'relation', 'response']) expect([term, Number.isFinite(s.losses[`unidistill/${term}`]) && s.losses[`unidistill/${term}`] > 0]).toEqual([term, true]);
    disposeResult(result);
  });

  it('a run killed mid-stage resumes to bit-equal student and adapter weights', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-unidistill-'));
    try {
      const full = await kd({ setting: 'lidar->camera' }, { steps: 4, dir: path.join(root, 'a') });
      await expect(kd({ setting: 'lidar->camera' }, { steps: 4, dir: path.join(root, 'b'), crashAt: 3 })).rejects.toThrow('simulated crash');
      const resumed = await kd({ setting: 'lidar->camera' }, { steps: 4, dir: path.join(root, 'b') });
      expect(resumed.result.resumedFrom).toEqual({ stage: 0, step: 2 });
      const names = full.result.params.names();
      expect(names.filter((n) => n.startsWith('unidistill.adapter.')).length).toBe(4);
      expect(resumed.result.params.names().sort()).toEqual([...names].sort());
      for (const n of names) expect([n, Array.from(resumed.result.params.get(n).dataSync())]).toEqual([n, Array.from(full.result.params.get(n).dataSync())]);
      disposeResult(full.result);
      disposeResult(resumed.result);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('the exported student carries no adapter: ONNX nodes and parameters as the plain student', async () => {
    const { result, student } = await kd({ setting: 'lidar->camera' }, { steps: 1, exportIt: true });
    expect(result.graph.params.some((p) => p.name.startsWith('unidistill.'))).toBe(true);
    const artifact = result.artifact!;
    expect(artifact.reports.find((r) => r.plugin === 'unidistill')?.summary).toMatch(/UniDistill lidar->camera \(λ_f 100, λ_r 40, λ_p 10\); adapters \(\d+ params\) not in the artifact/);
    const plainParams = ParamStore.init(student, 1);
    const plain = onnxCounts(exportOnnx(stripTrainOnly(student as Graph), plainParams, { opset: 17 }));
    expect(onnxCounts(artifact.onnx)).toEqual(plain);
    expect(Object.keys(artifact.graph.values).some((v) => v.startsWith('unidistill.'))).toBe(false);
    plainParams.dispose();
    disposeResult(result);
  });
});
