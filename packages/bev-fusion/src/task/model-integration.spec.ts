import * as tf from '@tensorflow/tfjs';
import { ParamStore, run } from '@bevzip/ir';
import { expectNoLeak } from '@bevzip/ir/testing';
import type { Frame } from '@bevzip/driving-data';
import { buildBevFusion } from '../model/build';
import { MICRO_CONFIG, modelGeometry, TINY_CONFIG } from '../model/config';
import { generateScene } from '@bevzip/synthetic-scenes';
import { disposeBatch, makeBatch } from './batch';
import { frustumPointCount } from './camera-geometry';
import { depthBins, headGrid, TINY_TASK_CONFIG } from './config';
import { evaluateModel } from './evaluate';
import { taskConfigForModel } from './from-model';
import { taskLoss } from './losses';

let frames: Frame[];
beforeAll(() => {
  frames = generateScene({ seed: 4, sceneIndex: 0, frames: 2 });
});

describe('task settings from a model config', () => {
  it('reproduces the tiny task config and the model geometry of tiny and micro', () => {
    const tiny = taskConfigForModel(TINY_CONFIG, 'fusion');
    expect({ ...tiny }).toEqual({ ...TINY_TASK_CONFIG });
    for (const model of [TINY_CONFIG, MICRO_CONFIG]) {
      const cfg = taskConfigForModel(model, 'camera');
      const geo = modelGeometry(model);
      expect(frustumPointCount(cfg)).toBe(geo.frustumPoints);
      expect(depthBins(cfg)).toBe(geo.depthBins);
      expect(headGrid(cfg).size).toEqual([geo.headH, geo.headW]);
    }
  });
});

describe('batches through the micro model', () => {
  const cfg = taskConfigForModel(MICRO_CONFIG, 'fusion');
  const graph = buildBevFusion(MICRO_CONFIG, 'fusion');
  let params: ParamStore;
  // Weights are made after the suite's backend is set up, on that backend.
  beforeAll(() => {
    params = ParamStore.init(graph, 3);
  });
  afterAll(() => params.dispose());

  it('feeds the graph, matches the target shapes and gives a finite loss with gradients for every parameter', () => {
    const batch = makeBatch(frames, cfg);
    expect(batch.targets.map!.shape).toEqual([2, 32, 32, 2]);
    const trainable = params.names().filter((n) => params.get(n).trainable);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => {
      const { outputs } = run(graph, params, batch.feeds, { training: true });
      const terms = taskLoss(
        { heatmap: outputs.heatmap, reg: outputs.reg, map: outputs.map },
        batch.targets,
        cfg,
      );
      return terms.total;
    }, params.trainableVariables());
    const loss = value.dataSync()[0];
    expect(Number.isFinite(loss)).toBe(true);
    expect(loss).toBeGreaterThan(0);
    const withGrad = trainable.filter((n) =>
      tf.tidy(() => tf.any(tf.notEqual(grads[params.get(n).name], 0)).dataSync()[0]),
    );
    expect(withGrad.length).toBe(trainable.length);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    disposeBatch(batch);
  });

  it('evaluates the interpreter as a predictor without leaking tensors', async () => {
    const predict = (feeds: Record<string, tf.Tensor>) =>
      run(graph, params, feeds).outputs as { heatmap: tf.Tensor; reg: tf.Tensor; map: tf.Tensor };
    const res = await evaluateModel(frames, predict, cfg, { batchSize: 2 });
    expect(res.detections.size).toBe(2);
    expect(res.map!.meanIou).toBeGreaterThanOrEqual(0);
    expectNoLeak(() => disposeBatch(makeBatch(frames.slice(0, 1), cfg)), 1);
  });
});
