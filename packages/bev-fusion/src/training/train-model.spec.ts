import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { TrainEvent } from '@bevzip/ir';
import type { Frame } from '@bevzip/driving-data';
import { MICRO_CONFIG } from '../model/config';
import { generateScene } from '@bevzip/synthetic-scenes';
import { taskConfigForModel } from '../task/from-model';
import { loadModelCheckpoint } from './model-checkpoint';
import { trainModel, type TrainModelResult } from './train-model';
import { validateModel } from './validate-model';

const METRIC_KEYS = ['mAP', 'NDS', 'mATE', 'mASE', 'mAOE', 'mAVE', 'mAAE', 'mIoU'];

let train: Frame[];
let val: Frame[];
let root: string;
beforeAll(() => {
  train = [0, 1].flatMap((sceneIndex) => generateScene({ seed: 4, sceneIndex, frames: 2 }));
  val = generateScene({ seed: 4, sceneIndex: 7, frames: 2 });
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-train-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('trainModel on micro', () => {
  const events: TrainEvent[] = [];
  let result: TrainModelResult;
  let tensorsBefore: number;
  const out = () => path.join(root, 'micro-fusion');
  const options = () => ({
    model: 'micro' as const,
    modality: 'fusion' as const,
    steps: 20,
    out: out(),
    seed: 3,
    batchSize: 2,
    lr: 3e-3,
    evalEvery: 10,
    checkpointEvery: 10,
    data: { train, val },
  });

  beforeAll(async () => {
    tensorsBefore = tf.memory().numTensors;
    result = await trainModel({ ...options(), observe: (e) => void e.subscribe((x) => events.push(x)) });
  });

  it('lowers the task loss over 20 steps on a fixed set of four frames', () => {
    const losses = events.flatMap((e) => (e.type === 'step' ? [e.losses.task] : []));
    expect(losses).toHaveLength(20);
    expect(losses.every(Number.isFinite)).toBe(true);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-5))).toBeLessThan(0.6 * mean(losses.slice(0, 5)));
    expect(result.lossEnd!).toBeLessThan(result.lossStart!);
  });

  it('validates every 10 steps and at the end, before the run ends, and leaks no tensors', () => {
    const metrics = events.filter((e): e is Extract<TrainEvent, { type: 'metric' }> => e.type === 'metric');
    expect([...new Set(metrics.map((m) => m.step))]).toEqual([10, 20]);
    expect(metrics.filter((m) => m.step === 20).map((m) => m.name)).toEqual(
      METRIC_KEYS.map((k) => `val/${k}`),
    );
    expect(events.findIndex((e) => e.type === 'metric' && e.step === 20)).toBeLessThan(
      events.findIndex((e) => e.type === 'run-end'),
    );
    const atEnd = Object.fromEntries(
      metrics.filter((m) => m.step === 20).map((m) => [m.name.slice(4), m.value]),
    );
    for (const k of METRIC_KEYS) expect(atEnd[k]).toBe(result.metrics[k as keyof typeof result.metrics]);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('writes the model directory and resumable checkpoints, and the model reloads to the same metrics', async () => {
    for (const f of ['graph.json', 'weights.bin', 'model.json'])
      expect(fs.existsSync(path.join(out(), f))).toBe(true);
    expect(fs.readdirSync(path.join(out(), 'checkpoints')).sort()).toEqual(['step-000010', 'step-000020']);
    const ck = loadModelCheckpoint(out());
    try {
      expect(ck.info.modality).toBe('fusion');
      expect(ck.info.configName).toBe('micro');
      expect(ck.info.metrics?.mAP).toBe(result.metrics.mAP);
      const again = await validateModel(ck.graph, ck.params, val, taskConfigForModel(MICRO_CONFIG, 'fusion'));
      for (const k of METRIC_KEYS)
        expect(again[k as keyof typeof again]).toBeCloseTo(
          result.metrics[k as keyof typeof result.metrics] as number,
          9,
        );
    } finally {
      ck.params.dispose();
    }
  });

  it('evaluates the same in onnxruntime and in the tfjs interpreter', async () => {
    const ck = loadModelCheckpoint(out());
    try {
      const cfg = taskConfigForModel(MICRO_CONFIG, 'fusion');
      const viaOrt = await validateModel(ck.graph, ck.params, val, cfg, { runtime: 'onnxruntime' });
      const viaTfjs = await validateModel(ck.graph, ck.params, val, cfg, { runtime: 'interpreter' });
      expect(viaOrt.runtime).toBe('onnxruntime');
      expect(viaTfjs.runtime).toBe('interpreter');
      for (const k of ['mAP', 'NDS', 'mIoU'] as const)
        expect(Math.abs(viaOrt[k] - viaTfjs[k])).toBeLessThan(1e-3);
    } finally {
      ck.params.dispose();
    }
  });

  it('resumes a finished run from its last checkpoint without training again', async () => {
    const again: TrainEvent[] = [];
    const r = await trainModel({ ...options(), observe: (e) => void e.subscribe((x) => again.push(x)) });
    expect(again.some((e) => e.type === 'step')).toBe(false);
    expect(again.find((e) => e.type === 'run-start')).toMatchObject({ resumedFrom: { step: 0 } });
    expect(r.metrics.mAP).toBeCloseTo(result.metrics.mAP, 9);
    expect(r.metrics.mIoU).toBeCloseTo(result.metrics.mIoU, 6);
  });

  it('refuses to continue a checkpoint written with other training settings, naming them', async () => {
    const before = fs.readdirSync(path.join(out(), 'checkpoints')).sort();
    await expect(trainModel({ ...options(), steps: 30, lr: 5e-4 })).rejects.toMatchObject({
      code: 'E_CHECKPOINT',
      message: expect.stringMatching(/lr \(checkpoint: 0\.003, now: 0\.0005\).*steps \(checkpoint: 20, now: 30\)|steps \(checkpoint: 20, now: 30\).*lr \(checkpoint: 0\.003, now: 0\.0005\)/),
    });
    expect(fs.readdirSync(path.join(out(), 'checkpoints')).sort()).toEqual(before);
  });

  it('trains from the worker batch stream when asked to', async () => {
    const steps: number[] = [];
    const r = await trainModel({
      ...options(),
      out: path.join(root, 'streamed'),
      steps: 3,
      evalEvery: 0,
      checkpointEvery: 0,
      data: { val, stream: true, framesPerScene: 2 },
      observe: (e) => void e.subscribe((x) => x.type === 'step' && steps.push(x.losses.task)),
    });
    expect(steps).toHaveLength(3);
    expect(steps.every(Number.isFinite)).toBe(true);
    expect(r.info.training).toMatchObject({ data: { stream: true, trainFrames: 0 } });
  });
});
