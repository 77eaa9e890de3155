import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../builder';
import { run } from '../interpreter';
import { ParamStore } from '../params';
import { exportOnnx } from '../onnx/export';
import { createOrtSession, runOrt } from '../onnx/ort';
import { expectClose, maxRelError } from '../testing';
import { onnx } from 'onnx-proto';
import { foldBatchNorm } from './fold-batchnorm';
import { poolBeforeBias } from './pool-before-bias';
import { removeChannels } from './remove-channels';
import { stripTrainOnly } from './strip-train-only';

/** conv→bn→relu on two branches joined by add and concat, then a final conv; plus a train-only adapter. */
function network() {
  const b = new GraphBuilder('passes');
  const x = b.input('x', [-1, 6, 6, 3]);
  const block = (name: string, input: string, cin: number, cout: number) =>
    b.scoped(name, { modality: 'camera', stage: 'backbone' }, () => {
      const conv = b.op('conv2d', [input, b.param('weight', [3, 3, cin, cout])]);
      const bn = b.op('batchnorm', [
        conv,
        b.param('gamma', [cout], { role: 'norm', init: { kind: 'uniform', min: 0.5, max: 1.5 } }),
        b.param('beta', [cout], { role: 'norm', init: { kind: 'normal', std: 0.1 } }),
        b.param('mean', [cout], { role: 'state', init: { kind: 'normal', std: 0.1 } }),
        b.param('var', [cout], { role: 'state', init: { kind: 'uniform', min: 0.5, max: 2 } }),
      ]);
      return b.op('relu', [bn]);
    });
  const a = block('a', x, 3, 8);
  const c = block('c', a, 8, 8);
  const sum = b.op('add', [a, c]);
  const d = block('d', x, 3, 4);
  const cat = b.op('concat', [sum, d], { axis: -1 });
  const out = b.scoped('head', { modality: 'fusion', stage: 'head' }, () =>
    b.op('conv2d', [cat, b.param('weight', [1, 1, 12, 2]), b.param('bias', [2], { role: 'bias' })]),
  );
  b.scoped('adapter', { stage: 'adapter', trainOnly: true }, () => b.op('conv2d', [cat, b.param('weight', [1, 1, 12, 5])]));
  b.output(out);
  const graph = b.build();
  return { graph, params: ParamStore.init(graph, 11) };
}

describe('graph passes', () => {
  const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 4);
  afterAll(() => x.dispose());
  const forward = (g: ReturnType<typeof network>['graph'], p: ParamStore) => run(g, p, { x }).outputs[g.outputs[0]];

  it('strips train-only nodes and params without changing outputs', () => {
    const { graph, params } = network();
    const stripped = stripTrainOnly(graph);
    expect(stripped.nodes.some((n) => n.scope === 'adapter')).toBe(false);
    expect(stripped.params.some((p) => p.name === 'adapter.weight')).toBe(false);
    expectClose(forward(stripped, params), forward(graph, params), 0);
    params.dispose();
  });

  it('folds batch norm into the preceding conv with equal eval outputs', () => {
    const { graph, params } = network();
    const folded = foldBatchNorm(stripTrainOnly(graph), params);
    expect(folded.graph.nodes.filter((n) => n.op === 'batchnorm')).toHaveLength(0);
    expect(folded.graph.outputs).toEqual(graph.outputs);
    expectClose(forward(folded.graph, folded.params), forward(graph, params), 1e-5);
    params.dispose();
    folded.params.dispose();
  });

  it('removes channels through bn, relu, add and concat into the next conv, shrinking the model', async () => {
    const { graph, params } = network();
    const base = stripTrainOnly(graph);
    // Channels 1, 4, 6 of the add's two producers and channel 2 of branch d go; zero the weights that
    // read them so the pruned model must compute exactly the same outputs.
    const dropSum = [1, 4, 6];
    const dropD = [2];
    const head = params.get('head.weight').arraySync() as number[][][][];
    [...dropSum, 8 + dropD[0]].forEach((c) => head[0][0][c].fill(0));
    params.set('head.weight', tf.tensor(head));
    // Branch c reads a's channels too.
    const c = params.get('c.weight').arraySync() as number[][][][];
    c.forEach((row) => row.forEach((tap) => dropSum.forEach((ch) => tap[ch].fill(0))));
    params.set('c.weight', tf.tensor(c));
    const keepSum = [0, 2, 3, 5, 7];
    const keep = new Map([
      ['a.weight', keepSum],
      ['c.weight', keepSum],
      ['d.weight', [0, 1, 3]],
    ]);
    const pruned = removeChannels(base, params, keep);
    expect(pruned.plan.pinned).toEqual([]);
    expect(pruned.graph.params.find((p) => p.name === 'head.weight')!.shape).toEqual([1, 1, 8, 2]);
    expect(pruned.graph.params.find((p) => p.name === 'c.weight')!.shape).toEqual([3, 3, 5, 5]);
    expect(pruned.graph.params.find((p) => p.name === 'a.gamma')!.shape).toEqual([5]);
    expect(pruned.params.count()).toBeLessThan(params.count((n) => !n.startsWith('adapter')));
    expectClose(forward(pruned.graph, pruned.params), forward(base, params), 1e-5);
    // The smaller model exports and runs in onnxruntime with the same result.
    const session = await createOrtSession(exportOnnx(pruned.graph, pruned.params));
    const ortOut = await runOrt(session, { x });
    expect(maxRelError(ortOut[pruned.graph.outputs[0]].data, forward(pruned.graph, pruned.params).dataSync())).toBeLessThan(1e-4);
    params.dispose();
    pruned.params.dispose();
  });

  it('unifies element-wise inputs: the add keeps the union of what its producers keep', () => {
    const { graph, params } = network();
    const pruned = removeChannels(stripTrainOnly(graph), params, new Map([['a.weight', [0, 1]], ['c.weight', [1, 2]]]));
    expect(pruned.plan.kept.get('a.weight')).toEqual([0, 1, 2]);
    expect(pruned.plan.kept.get('c.weight')).toEqual([0, 1, 2]);
    params.dispose();
    pruned.params.dispose();
  });

  it('keeps channels that reach a graph output and reports them', () => {
    const { graph, params } = network();
    const pruned = removeChannels(stripTrainOnly(graph), params, new Map([['head.weight', [0]]]));
    expect(pruned.plan.pinned).toEqual(['head.weight']);
    expect(pruned.graph.values[pruned.graph.outputs[0]].shape).toEqual([-1, 6, 6, 2]);
    params.dispose();
    pruned.params.dispose();
  });

  it('rejects an out-of-range keep list with the param named', () => {
    const { graph, params } = network();
    expect(() => removeChannels(graph, params, new Map([['a.weight', [9]]]))).toThrow(/'a\.weight' must keep .* \[0, 8\)/);
    params.dispose();
  });
  it('exportOnnx folds a batch norm after a dense on a rank-4 tensor: no BatchNormalization, same outputs, taps kept', async () => {
    // The pillar net's layout: a per-point dense over [batch, pillars, points, features], then BN.
    const b = new GraphBuilder('pillar-bn');
    const pts = b.input('pts', [-1, 5, 4, 3]);
    const lin = b.op('dense', [pts, b.param('weight', [3, 6])]);
    const bn = b.op('batchnorm', [
      lin,
      b.param('gamma', [6], { role: 'norm', init: { kind: 'uniform', min: 0.5, max: 1.5 } }),
      b.param('beta', [6], { role: 'norm', init: { kind: 'normal', std: 0.1 } }),
      b.param('mean', [6], { role: 'state', init: { kind: 'normal', std: 0.1 } }),
      b.param('var', [6], { role: 'state', init: { kind: 'uniform', min: 0.5, max: 2 } }),
    ]);
    b.output(b.op('relu', [bn]));
    const graph = b.build();
    const params = ParamStore.init(graph, 3);
    const feed = tf.randomNormal([2, 5, 4, 3], 0, 1, 'float32', 5);
    const expected = run(graph, params, { pts: feed }).outputs[graph.outputs[0]];
    const opsOf = (bytes: Uint8Array) => onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType);
    const folded = exportOnnx(graph, params);
    expect(opsOf(folded)).not.toContain('BatchNormalization');
    expect(opsOf(folded)).not.toContain('Transpose');
    expect(opsOf(exportOnnx(graph, params, { foldBatchNorm: false }))).toContain('BatchNormalization');
    // A caller that reads the pre-BN value keeps that BN.
    expect(opsOf(exportOnnx(graph, params, { extraOutputs: [lin] }))).toContain('BatchNormalization');
    const session = await createOrtSession(folded, { threads: 1 });
    const got = await runOrt(session, { pts: feed });
    expect(maxRelError(got[graph.outputs[0]].data, expected.dataSync())).toBeLessThan(1e-5);
    const before = tf.memory().numTensors;
    exportOnnx(graph, params);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([feed, expected]);
    params.dispose();
  });
  /** The pillar net after BN folding: dense with bias → relu → pillar_max → a reader. */
  function pillarNet() {
    const b = new GraphBuilder('pillar-pool');
    const pts = b.input('pts', [-1, 5, 4, 3]);
    const mask = b.input('mask', [-1, 5, 4]);
    const lin = b.op('dense', [pts, b.param('weight', [3, 6]), b.param('bias', [6], { role: 'bias', init: { kind: 'normal', std: 1 } })]);
    const relu = b.op('relu', [lin]);
    const pooled = b.op('pillar_max', [relu, mask]);
    b.output(b.op('dense', [pooled, b.param('head', [6, 2])]));
    const graph = b.build();
    // Points with negative pre-bias values everywhere, an empty pillar and padded points holding
    // large features: each would tell a wrong reordering apart.
    const maskData = Array.from({ length: 2 * 5 * 4 }, (_, i) => (i % 5 === 0 || Math.floor(i / 4) === 3 ? 0 : 1));
    const feeds = { pts: tf.randomNormal([2, 5, 4, 3], 0, 2, 'float32', 6), mask: tf.tensor3d(maskData, [2, 5, 4]) };
    return { graph, params: ParamStore.init(graph, 4), feeds, lin, relu, pooled };
  }

  it('pools before the bias and ReLU: one fused pillar_max, bit-equal outputs, in tfjs and onnxruntime', async () => {
    const { graph, params, feeds, relu } = pillarNet();
    const moved = poolBeforeBias(graph);
    expect(moved.nodes.map((n) => n.op)).toEqual(['dense', 'pillar_max', 'dense']);
    const pool = moved.nodes[1];
    expect(pool.inputs[2]).toBe('bias');
    expect(pool.attrs).toMatchObject({ relu: true });
    // The ReLU's name moves to the pooled value, so a quantizer placed on it stays in place.
    expect(pool.outputs[0]).toBe(relu);
    expect(moved.nodes[0].inputs).toEqual(['pts', 'weight']);
    const expected = run(graph, params, feeds).outputs[graph.outputs[0]];
    const got = run(moved, params, feeds).outputs[moved.outputs[0]];
    expect(Array.from(got.dataSync())).toEqual(Array.from(expected.dataSync()));
    const opsOf = (bytes: Uint8Array) => onnx.ModelProto.decode(bytes).graph!.node!;
    const file = exportOnnx(graph, params);
    // No Add or Relu reads the per-point tensor: the pooled [batch, pillars, C] value gets them.
    const pointsValue = opsOf(file).find((n) => n.opType === 'MatMul')!.output![0];
    const readers = opsOf(file).filter((n) => n.input!.includes(pointsValue)).map((n) => n.opType);
    expect(readers).toEqual(['Add']);
    expect(opsOf(exportOnnx(graph, params, { poolBeforeBias: false })).filter((n) => n.opType === 'Relu')).toHaveLength(1);
    const session = await createOrtSession(file, { threads: 1 });
    const ort = await runOrt(session, feeds);
    expect(maxRelError(ort[graph.outputs[0]].data, expected.dataSync())).toBeLessThan(1e-6);
    tf.dispose([expected, got, ...Object.values(feeds)]);
    params.dispose();
  });

  it('leaves the pillar net alone when a caller reads the per-point values or the pooled one', () => {
    const { graph, params, feeds, lin, relu, pooled } = pillarNet();
    for (const kept of [lin, relu, pooled]) expect(poolBeforeBias(graph, new Set([kept]))).toBe(graph);
    const noBias = structuredClone(graph);
    noBias.nodes[0].inputs = noBias.nodes[0].inputs.slice(0, 2);
    expect(poolBeforeBias(noBias)).toBe(noBias);
    tf.dispose(Object.values(feeds));
    params.dispose();
  });
});
