import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BevzipError, ParamStore, saveGraph } from '@bevzip/ir';
import { buildBevFusion } from '../model/build';
import { MICRO_CONFIG } from '../model/config';
import { BUILTIN_CHECKPOINTS, loadModelCheckpoint, resolveCheckpoint, teachersDir } from './model-checkpoint';
import { resolveTrainOptions } from './train-options';

function codeOf(fn: () => unknown): { code?: string; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BevzipError);
    return { code: (e as BevzipError).code, message: (e as Error).message };
  }
  throw new Error('expected a BevzipError');
}

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-ckpt-'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('resolveCheckpoint', () => {
  it('lists the valid builtin names for an unknown builtin', () => {
    const e = codeOf(() => resolveCheckpoint('builtin:tiny-radar'));
    expect(e.code).toBe('E_CHECKPOINT');
    expect(e.message).toContain("'builtin:tiny-radar'");
    for (const name of BUILTIN_CHECKPOINTS) expect(e.message).toContain(`builtin:${name}`);
  });

  it('names the path of a missing directory and of a directory without graph.json', () => {
    const missing = path.join(root, 'nope');
    const e = codeOf(() => resolveCheckpoint(missing));
    expect(e.code).toBe('E_CHECKPOINT');
    expect(e.message).toContain(missing);
    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty);
    const f = codeOf(() => resolveCheckpoint(empty));
    expect(f.message).toContain(empty);
    expect(f.message).toContain('graph.json');
  });

  it('resolves builtin names into the package teachers folder', () => {
    for (const name of BUILTIN_CHECKPOINTS)
      expect(resolveCheckpoint(`builtin:${name}`)).toBe(path.join(teachersDir(), name));
  });
});

describe('loadModelCheckpoint', () => {
  it('takes config and modality from the graph meta when model.json is absent', () => {
    const graph = buildBevFusion(MICRO_CONFIG, 'lidar');
    const params = ParamStore.init(graph, 1);
    const dir = path.join(root, 'plain');
    saveGraph(dir, graph, params);
    params.dispose();
    const ck = loadModelCheckpoint(dir);
    expect(ck.info).toMatchObject({ configName: 'micro', modality: 'lidar' });
    expect(ck.params.names().sort()).toEqual(graph.params.map((p) => p.name).sort());
    ck.params.dispose();
  });

  it('names model.json when it is not valid JSON', () => {
    const graph = buildBevFusion(MICRO_CONFIG, 'camera');
    const params = ParamStore.init(graph, 1);
    const dir = path.join(root, 'broken');
    saveGraph(dir, graph, params);
    params.dispose();
    fs.writeFileSync(path.join(dir, 'model.json'), '{ "format": ');
    const e = codeOf(() => loadModelCheckpoint(dir));
    expect(e.code).toBe('E_CHECKPOINT');
    expect(e.message).toContain(path.join(dir, 'model.json'));
  });

  it('loads each shipped teacher with its modality and validation metrics', () => {
    for (const name of BUILTIN_CHECKPOINTS) {
      const ck = loadModelCheckpoint(`builtin:${name}`);
      try {
        expect(ck.info.configName).toBe('tiny');
        expect(`tiny-${ck.info.modality}`).toBe(name);
        expect(ck.info.metrics!.frames).toBeGreaterThanOrEqual(40);
        for (const k of ['mAP', 'NDS', 'mIoU'] as const)
          expect(Number.isFinite(ck.info.metrics![k])).toBe(true);
      } finally {
        ck.params.dispose();
      }
    }
  });
});

describe('resolveTrainOptions', () => {
  it('fills in the documented defaults', () => {
    const o = resolveTrainOptions({ steps: 5, out: 'x' });
    expect(o).toMatchObject({
      model: 'tiny',
      seed: 0,
      batchSize: 2,
      lr: 1e-3,
      weightDecay: 0.01,
      clipNorm: 35,
      checkpointEvery: 200,
      evalRuntime: 'auto',
    });
    expect(o.data).toMatchObject({ dataSeed: 0, trainScenes: 120, valScenes: 16, framesPerScene: 3 });
  });

  it('names the bad field and what it must be', () => {
    const steps = codeOf(() => resolveTrainOptions({ steps: 0, out: 'x' }));
    expect(steps.code).toBe('E_CONFIG');
    expect(steps.message).toMatch(/steps/);
    const modality = codeOf(() => resolveTrainOptions({ steps: 1, out: 'x', modality: 'radar' as never }));
    expect(modality.message).toMatch(/modality.*fusion.*camera.*lidar/);
  });
});
