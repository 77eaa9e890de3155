import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BevzipError, ParamStore, run } from '@bevzip/ir';
import { expectClose } from '@bevzip/ir/testing';
import { buildBevFusion } from '../model/build';
import { MICRO_CONFIG, type ModelModality } from '../model/config';
import { generateScene } from '@bevzip/synthetic-scenes';
import { disposeBatch, makeBatch } from '../task/batch';
import { taskConfigForModel } from '../task/from-model';
import { fusionParamsFromBranches } from './branch-init';
import { MODEL_INFO_FORMAT, saveModelCheckpoint } from './model-checkpoint';

let root: string;
const dirOf = (m: ModelModality) => path.join(root, m);
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-branches-'));
  for (const [m, seed] of [
    ['camera', 1],
    ['lidar', 2],
  ] as const) {
    const graph = buildBevFusion(MICRO_CONFIG, m);
    const params = ParamStore.init(graph, seed);
    // Non-trivial running statistics, so inference-mode batch norm is exercised too.
    for (const name of params.names().filter((n) => n.endsWith('running_var')))
      params.get(name).assign(tf.fill(params.get(name).shape, 1.5 + seed));
    saveModelCheckpoint(dirOf(m), graph, params, {
      format: MODEL_INFO_FORMAT,
      version: 1,
      configName: 'micro',
      config: MICRO_CONFIG,
      modality: m,
    });
    params.dispose();
  }
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('fusionParamsFromBranches', () => {
  it('starts the fusion model exactly at the LiDAR model, with the camera encoder of the camera model', () => {
    const fusion = buildBevFusion(MICRO_CONFIG, 'fusion');
    const lidarGraph = buildBevFusion(MICRO_CONFIG, 'lidar');
    const before = tf.memory().numTensors;
    const params = fusionParamsFromBranches(fusion, 'micro', {
      camera: dirOf('camera'),
      lidar: dirOf('lidar'),
    });
    expect(tf.memory().numTensors).toBe(before + fusion.params.length);
    const cameraRef = ParamStore.init(buildBevFusion(MICRO_CONFIG, 'camera'), 1);
    const lidarRef = ParamStore.init(lidarGraph, 2);
    for (const name of lidarRef.names().filter((n) => n.endsWith('running_var')))
      lidarRef.get(name).assign(tf.fill(lidarRef.get(name).shape, 3.5));
    const c1 = 'encoders.camera.backbone.c1.conv.weight';
    expectClose(params.get(c1), cameraRef.get(c1), 0);
    const fuser = params.get('fuser.conv.weight');
    expect(fuser.shape).toEqual([3, 3, 32, 16]);
    expect(tf.tidy(() => tf.max(tf.abs(tf.slice(fuser, [0, 0, 0, 0], [3, 3, 16, 16]))).dataSync()[0])).toBe(
      0,
    );

    const frames = generateScene({ seed: 5, sceneIndex: 0, frames: 1 });
    const batch = makeBatch(frames, taskConfigForModel(MICRO_CONFIG, 'fusion'));
    const fused = run(fusion, params, batch.feeds, { training: false }).outputs;
    const alone = run(lidarGraph, lidarRef, batch.feeds, { training: false }).outputs;
    for (const k of ['heatmap', 'reg', 'map']) expectClose(fused[k], alone[k], 1e-5);
    tf.dispose([...Object.values(fused), ...Object.values(alone)]);
    disposeBatch(batch);
    [params, cameraRef, lidarRef].forEach((p) => p.dispose());
  });

  it('refuses a checkpoint of the wrong sensor, naming it', () => {
    const fusion = buildBevFusion(MICRO_CONFIG, 'fusion');
    expect(() =>
      fusionParamsFromBranches(fusion, 'micro', { camera: dirOf('lidar'), lidar: dirOf('lidar') }),
    ).toThrow(BevzipError);
    expect(() =>
      fusionParamsFromBranches(fusion, 'micro', { camera: dirOf('camera'), lidar: dirOf('camera') }),
    ).toThrow(/expected a micro lidar model/);
  });
});
