import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../builder';
import type { Graph } from '../graph';
import { ParamStore } from '../params';
import { Rng } from '../rng';
import { deserializeWeights, parseGraphJson, serializeGraph } from '../serialize';
import { expectNoLeak, randomTensor } from '../testing';
import { createOptimizer } from '../train/optimizer';
import { checkpointPath, latestCheckpoint, readCheckpoint, writeCheckpoint, type CheckpointData } from './checkpoint';

function netGraph(): Graph {
  const b = new GraphBuilder('ckpt', { builder: 'test' });
  const x = b.input('x', [-1, 6, 6, 2]);
  const y = b.scoped('camera.backbone', { modality: 'camera', stage: 'backbone' }, () =>
    b.op('conv2d', [x, b.param('conv.weight', [3, 3, 2, 4]), b.param('conv.bias', [4], { role: 'bias' })], { pad: 'same' }),
  );
  b.param('bn.running_var', [4], { role: 'state', init: { kind: 'ones' } });
  b.output(y);
  return b.build();
}

const arr = (t: tf.Tensor) => Array.from(t.dataSync());

/** A full checkpoint: weights, two Adam steps of state, float and bool masks, quantizer arrays. */
function fullData(graph: Graph, seed: number): CheckpointData {
  const params = ParamStore.init(graph, seed);
  const opt = createOptimizer({ kind: 'adam', lr: 0.01 }, graph);
  for (let s = 0; s < 2; s++) {
    const g = new Map([
      ['camera.backbone.conv.weight', randomTensor([3, 3, 2, 4], seed + s)],
      ['camera.backbone.conv.bias', randomTensor([4], seed + 10 + s)],
    ]);
    opt.step(g, params, 0.01);
    g.forEach((t) => t.dispose());
  }
  const optimizer = opt.getState();
  opt.dispose();
  const masks = new Map<string, tf.Tensor>([
    ['camera.backbone.conv.weight', tf.tidy(() => tf.cast(tf.greater(randomTensor([3, 3, 2, 4], seed + 20), 0), 'float32'))],
    ['camera.backbone.conv.bias', tf.tensor([true, false, true, true], [4], 'bool')],
  ]);
  const featureMasks = new Map<string, tf.Tensor>([['camera.backbone.conv2d', tf.tensor([1, 0, 1, 1], [1, 1, 1, 4])]]);
  const rng = new Rng(seed);
  rng.next();
  return {
    graph,
    params,
    optimizer,
    masks,
    featureMasks,
    quantizers: { 'camera.backbone.conv': { scale: new Float32Array([0.1, Math.PI, 1e-30, -0]), zeroPoint: new Int32Array([0, -3]), bits: 8 } },
    rng: rng.getState(),
    seed,
    position: { stage: 1, step: 42 },
    extra: { altermoma: { round: 3, scores: new Float64Array([0.1, 0.2]) } },
  };
}

function dispose(d: CheckpointData): void {
  d.params.dispose();
  d.masks?.forEach((t) => t.dispose());
  d.featureMasks?.forEach((t) => t.dispose());
}

function expectSameWeights(a: ParamStore, b: ParamStore): void {
  expect(b.names()).toEqual(a.names());
  for (const n of a.names()) expect(arr(b.get(n))).toEqual(arr(a.get(n)));
}

describe('checkpoints', () => {
  const graph = netGraph();
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-ckpt-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('round-trip graph, weights, masks, optimizer state, quantizers and run state bit-exactly', () => {
    const data = fullData(graph, 5);
    const dir = checkpointPath(root, 42);
    writeCheckpoint(dir, data);
    const back = readCheckpoint(dir);
    expect(back.graph).toEqual(graph);
    expectSameWeights(data.params, back.params);
    expect([...back.masks!.keys()]).toEqual([...data.masks!.keys()]);
    for (const [k, t] of data.masks!) {
      expect(back.masks!.get(k)!.dtype).toBe(t.dtype);
      expect(back.masks!.get(k)!.shape).toEqual(t.shape);
      expect(arr(back.masks!.get(k)!)).toEqual(arr(t));
    }
    expect([...back.featureMasks!.keys()]).toEqual(['camera.backbone.conv2d']);
    expect(back.featureMasks!.get('camera.backbone.conv2d')!.shape).toEqual([1, 1, 1, 4]);
    expect(arr(back.featureMasks!.get('camera.backbone.conv2d')!)).toEqual([1, 0, 1, 1]);
    expect(back.optimizer).toEqual(data.optimizer);
    expect(back.optimizer!.params['camera.backbone.conv.weight'].slots.exp_avg).toBeInstanceOf(Float32Array);
    expect(back.quantizers).toEqual(data.quantizers);
    expect(Object.is((back.quantizers as { 'camera.backbone.conv': { scale: Float32Array } })['camera.backbone.conv'].scale[3], -0)).toBe(true);
    expect([back.rng, back.seed, back.position, back.extra]).toEqual([data.rng, data.seed, data.position, data.extra]);
    dispose(data);
    dispose(back);
  });

  it('list every file in the manifest with its size and SHA-256', () => {
    const data = fullData(graph, 6);
    writeCheckpoint(path.join(root, 'c'), data);
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'c', 'manifest.json'), 'utf8'));
    const onDisk = fs.readdirSync(path.join(root, 'c')).filter((f) => f !== 'manifest.json').sort();
    expect(manifest.files.map((f: { file: string }) => f.file).sort()).toEqual(onDisk);
    expect(onDisk).toEqual(['graph.json', 'masks.bin', 'masks.json', 'optimizer.bin', 'optimizer.json', 'quantizers.json', 'state.json', 'weights.bin']);
    for (const f of manifest.files) {
      const bytes = fs.readFileSync(path.join(root, 'c', f.file));
      expect([f.size, f.sha256]).toEqual([bytes.byteLength, crypto.createHash('sha256').update(bytes).digest('hex')]);
    }
    dispose(data);
  });

  it('write only the required files when there is no optimizer, mask or quantizer state', () => {
    const params = ParamStore.init(graph, 1);
    writeCheckpoint(path.join(root, 'min'), { graph, params });
    expect(fs.readdirSync(path.join(root, 'min')).sort()).toEqual(['graph.json', 'manifest.json', 'state.json', 'weights.bin']);
    const back = readCheckpoint(path.join(root, 'min'));
    expect([back.optimizer, back.masks, back.featureMasks, back.quantizers, back.rng, back.position]).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expectSameWeights(params, back.params);
    params.dispose();
    back.params.dispose();
  });

  it.each(['graph.json', 'weights.bin', 'optimizer.json', 'optimizer.bin', 'masks.json', 'masks.bin', 'quantizers.json', 'state.json'])(
    'refuse a flipped byte in %s with an error naming the file',
    (file) => {
      const data = fullData(graph, 7);
      const dir = path.join(root, 'c');
      writeCheckpoint(dir, data);
      const p = path.join(dir, file);
      const bytes = fs.readFileSync(p);
      bytes[Math.floor(bytes.length / 2)] ^= 0x10;
      fs.writeFileSync(p, bytes);
      expect(() => readCheckpoint(dir)).toThrow(expect.objectContaining({ code: 'E_CHECKPOINT', message: expect.stringContaining(`${p}: SHA-256`) }));
      expect(() => readCheckpoint(dir)).toThrow(/the file is corrupted/);
      dispose(data);
    },
  );

  it('refuse truncated, missing or unlisted files and a damaged manifest, naming the file', () => {
    const data = fullData(graph, 8);
    const dir = path.join(root, 'c');
    const fresh = () => writeCheckpoint(dir, data);
    fresh();
    const bin = path.join(dir, 'optimizer.bin');
    fs.truncateSync(bin, 100);
    expect(() => readCheckpoint(dir)).toThrow(`${bin}: is 100 bytes but manifest.json records`);
    expect(() => readCheckpoint(dir)).toThrow(/the file is truncated/);
    fresh();
    fs.rmSync(path.join(dir, 'masks.bin'));
    expect(() => readCheckpoint(dir)).toThrow(`${path.join(dir, 'masks.bin')}: listed in manifest.json but missing`);
    fresh();
    fs.writeFileSync(path.join(dir, 'manifest.json'), '{"format": "bevzip-checkpoint", "files": [');
    expect(() => readCheckpoint(dir)).toThrow(new RegExp(`manifest\\.json: not valid JSON`));
    fresh();
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    m.files = m.files.filter((f: { file: string }) => f.file !== 'weights.bin');
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
    expect(() => readCheckpoint(dir)).toThrow(`${path.join(dir, 'weights.bin')}: not listed in manifest.json`);
    expect(() => readCheckpoint(path.join(root, 'absent'))).toThrow(/absent: no such checkpoint directory/);
    dispose(data);
  });

  it('keep the previous checkpoint intact when a write fails midway, and replace it when one succeeds', () => {
    const first = fullData(graph, 9);
    const second = fullData(graph, 10);
    const dir = path.join(root, 'same');
    writeCheckpoint(dir, first);
    // graph, weights, optimizer and masks files are already in the temp dir when quantizers fail to encode
    const failing = { ...second, quantizers: { bad: tf.scalar(1) } };
    expect(() => writeCheckpoint(dir, failing)).toThrow(/quantizers\.json: 'bad' is a tf\.Tensor/);
    failing.quantizers.bad.dispose();
    expect(fs.readdirSync(root)).toEqual(['same']);
    const kept = readCheckpoint(dir);
    expectSameWeights(first.params, kept.params);
    expect(kept.optimizer).toEqual(first.optimizer);
    dispose(kept);
    writeCheckpoint(dir, second);
    expect(fs.readdirSync(root)).toEqual(['same']);
    const replaced = readCheckpoint(dir);
    expectSameWeights(second.params, replaced.params);
    [first, second, replaced].forEach(dispose);
  });

  it('find the latest complete step directory, ignoring temp, moved-aside and incomplete ones', () => {
    expect(latestCheckpoint(path.join(root, 'none'))).toBeUndefined();
    const params = ParamStore.init(graph, 1);
    for (const s of [3, 999999, 1000000, 20]) writeCheckpoint(checkpointPath(root, s), { graph, params, position: { stage: 0, step: s } });
    fs.mkdirSync(path.join(root, 'step-2000000.tmp-4242'));
    fs.writeFileSync(path.join(root, 'step-2000000.tmp-4242', 'manifest.json'), '{}');
    fs.mkdirSync(path.join(root, 'step-3000000'));
    fs.mkdirSync(path.join(root, 'step-4000000.old-7'));
    expect(checkpointPath(root, 3)).toBe(path.join(root, 'step-000003'));
    expect(latestCheckpoint(root)).toBe(path.join(root, 'step-1000000'));
    const staged = path.join(root, 'staged');
    for (const [stage, step] of [[0, 900], [2, 10], [1, 5000], [2, 9]]) writeCheckpoint(path.join(staged, `ckpt-${stage}-${step}`), { graph, params });
    expect(latestCheckpoint(staged)).toBe(path.join(staged, 'ckpt-2-10'));
    params.dispose();
  });

  it('leave the tensor count flat across writes, and add none on reads beyond what loading the weights costs', () => {
    const data = fullData(graph, 11);
    const dir = path.join(root, 'leak');
    expectNoLeak(() => writeCheckpoint(dir, data));
    // ParamStore.set keeps the clone it makes a variable from, so loading weights alone may retain
    // tensors; a checkpoint read must not retain more than that.
    const growth = (fn: () => void) => {
      fn();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) fn();
      return tf.memory().numTensors - before;
    };
    const { json, weights } = serializeGraph(graph, data.params);
    const weightsOnly = growth(() => deserializeWeights(graph, parseGraphJson(json).entries!, weights!).dispose());
    expect(growth(() => dispose(readCheckpoint(dir)))).toBe(weightsOnly);
    dispose(data);
  });
});
