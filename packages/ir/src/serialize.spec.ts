import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from './builder';
import { ERROR_CODES } from './errors';
import { run } from './interpreter';
import { ParamStore } from './params';
import { loadGraph, MODEL_MANIFEST, parseGraphJson, saveGraph, serializeGraph } from './serialize';

function smallGraph() {
  const b = new GraphBuilder('ser', { builder: 'test' });
  const x = b.input('x', [-1, 6, 6, 2]);
  const y = b.scoped('lidar.backbone', { modality: 'lidar', stage: 'backbone' }, () =>
    b.op('conv2d', [x, b.param('w', [3, 3, 2, 3]), b.param('b', [3], { role: 'bias', init: { kind: 'normal', std: 0.1 } })]),
  );
  b.output(y);
  const graph = b.build();
  return { graph, params: ParamStore.init(graph, 3) };
}

describe('graph serialisation', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-ser-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('round-trips graph and weights exactly', () => {
    const { graph, params } = smallGraph();
    saveGraph(dir, graph, params);
    const loaded = loadGraph(dir);
    expect(loaded.graph).toEqual(graph);
    for (const p of graph.params) expect(Array.from(loaded.params.get(p.name).dataSync())).toEqual(Array.from(params.get(p.name).dataSync()));
    const x = tf.randomNormal([2, 6, 6, 2]);
    const a = run(graph, params, { x }).outputs[graph.outputs[0]];
    const b = run(loaded.graph, loaded.params, { x }).outputs[graph.outputs[0]];
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([x, a, b]);
    params.dispose();
    loaded.params.dispose();
  });

  it('names the file and field of malformed JSON', () => {
    expect(() => parseGraphJson('{"format":"bevzip-graph","schemaVersion":1,"graph":{"name":3}}', 'm.json')).toThrow(/m\.json: graph\.name: .*expected string/i);
    expect(() => parseGraphJson('{not json', 'm.json')).toThrow(/m\.json: not valid JSON/);
  });

  it('refuses a weights file of the wrong length, naming it', () => {
    const { graph, params } = smallGraph();
    saveGraph(dir, graph, params);
    const bin = path.join(dir, 'weights.bin');
    fs.writeFileSync(bin, fs.readFileSync(bin).subarray(0, 40));
    // With its manifest, the truncation is found before anything is parsed; without one, by the length check.
    expect(() => loadGraph(dir)).toThrow(expect.objectContaining({ code: ERROR_CODES.CHECKPOINT, message: expect.stringMatching(/weights\.bin: is 40 bytes but manifest\.json records \d+; the file is truncated/) }));
    fs.rmSync(path.join(dir, MODEL_MANIFEST));
    expect(() => loadGraph(dir)).toThrow(expect.objectContaining({ code: ERROR_CODES.WEIGHTS_FILE, message: expect.stringContaining('weights.bin: is 40 bytes') }));
    params.dispose();
  });

  it('checks every file of a model directory against its manifest, including extra files', () => {
    const { graph, params } = smallGraph();
    saveGraph(dir, graph, params, { 'model.json': '{"a":1}\n' });
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, MODEL_MANIFEST), 'utf8'));
    expect(manifest.format).toBe('bevzip-model');
    expect(manifest.files.map((f: { file: string }) => f.file)).toEqual(['weights.bin', 'graph.json', 'model.json']);
    const ok = loadGraph(dir);
    expect(ok.verified).toBe(true);
    ok.params.dispose();
    // One flipped byte in the weights: same size, different hash.
    const bin = path.join(dir, 'weights.bin');
    const bytes = fs.readFileSync(bin);
    bytes[7] ^= 0x10;
    fs.writeFileSync(bin, bytes);
    expect(() => loadGraph(dir)).toThrow(/weights\.bin: SHA-256 [0-9a-f]{64} differs from [0-9a-f]{64} in manifest\.json; the file is corrupted/);
    bytes[7] ^= 0x10;
    fs.writeFileSync(bin, bytes);
    fs.appendFileSync(path.join(dir, 'model.json'), ' ');
    expect(() => loadGraph(dir)).toThrow(/model\.json: is 9 bytes but manifest\.json records 8/);
    fs.rmSync(path.join(dir, MODEL_MANIFEST));
    const unchecked = loadGraph(dir);
    expect(unchecked.verified).toBe(false);
    unchecked.params.dispose();
    params.dispose();
  });

  it('refuses a weights file named outside the directory', () => {
    const { graph, params } = smallGraph();
    saveGraph(dir, graph, params);
    fs.rmSync(path.join(dir, MODEL_MANIFEST));
    const g = path.join(dir, 'graph.json');
    for (const evil of ['../weights.bin', '/etc/passwd', 'sub/weights.bin', '..']) {
      const doc = JSON.parse(fs.readFileSync(g, 'utf8'));
      doc.weights.file = evil;
      fs.writeFileSync(g, JSON.stringify(doc));
      expect(() => loadGraph(dir)).toThrow(expect.objectContaining({ code: ERROR_CODES.GRAPH_FILE, message: expect.stringContaining(`weights.file '${evil}' must be a file name in the same directory`) }));
    }
    params.dispose();
  });

  it('refuses NaN or infinite weights naming the tensor, unless asked to load them', () => {
    const { graph, params } = smallGraph();
    const name = graph.params.find((p) => p.role === 'weight')!.name;
    const w = params.get(name).dataSync().slice();
    w[0] = NaN;
    w[3] = Infinity;
    const bad = tf.tensor(w, [3, 3, 2, 3]);
    params.set(name, bad);
    bad.dispose();
    saveGraph(dir, graph, params);
    expect(() => loadGraph(dir)).toThrow(expect.objectContaining({ code: ERROR_CODES.WEIGHTS_FILE, message: expect.stringContaining(`NaN or infinite weights in 1 tensor(s): '${name}' (2 values)`) }));
    const before = tf.memory().numTensors;
    const loaded = loadGraph(dir, { allowNonFinite: true });
    expect(Number.isNaN(loaded.params.get(name).dataSync()[0])).toBe(true);
    loaded.params.dispose();
    expect(tf.memory().numTensors).toBe(before);
    params.dispose();
  });

  it('refuses an unknown op and a shape mismatch with the node named', () => {
    const { graph, params } = smallGraph();
    const { json } = serializeGraph(graph);
    const unknown = json.replace('"op": "conv2d"', '"op": "conv9d"');
    expect(() => parseGraphJson(unknown, 'g.json')).toThrow(/g\.json: unknown op 'conv9d'/);
    const doc = JSON.parse(json);
    doc.graph.params[0].shape = [3, 3, 5, 3];
    expect(() => parseGraphJson(JSON.stringify(doc), 'g.json')).toThrow(/g\.json: node 'lidar\.backbone\.conv2d' .*input channels 2/);
    params.dispose();
  });

  it('refuses a graph with a dangling input or cycle', () => {
    const { graph } = smallGraph();
    const doc = JSON.parse(serializeGraph(graph).json);
    doc.graph.nodes[0].inputs[0] = 'nowhere';
    expect(() => parseGraphJson(JSON.stringify(doc), 'g.json')).toThrow(/reads 'nowhere', which no input, param or node defines/);
  });
});
