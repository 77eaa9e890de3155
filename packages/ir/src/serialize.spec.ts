import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from './builder';
import { ERROR_CODES } from './errors';
import { run } from './interpreter';
import { ParamStore } from './params';
import { loadGraph, parseGraphJson, saveGraph, serializeGraph } from './serialize';

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
    expect(() => loadGraph(dir)).toThrow(expect.objectContaining({ code: ERROR_CODES.WEIGHTS_FILE, message: expect.stringContaining('weights.bin: is 40 bytes') }));
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
