import * as tf from '@tensorflow/tfjs';
import { createOrtSession, ParamStore, Pipeline, run, runOrt, type Graph } from '@bevzip/ir';
import { syntheticData } from '@bevzip/plugin-tester';
import { alterMoma, magnitudePrune } from './plugin';
import { channelLayers, channelMasks, removePrunedChannels } from './structured';
import { channelGraph } from './testing-fixtures/two-branch';

const graph = channelGraph();
const feeds = () => ({
  image: tf.randomUniform([2, 6, 6, 3], -1, 1, 'float32', 1),
  points: tf.randomUniform([2, 6, 6, 2], -1, 1, 'float32', 2),
});
const taskLoss = (outputs: Record<string, tf.Tensor>) =>
  tf.mean(tf.square(Object.values(outputs)[0])) as tf.Scalar;

function outputOf(g: Graph, params: ParamStore, masks?: ReadonlyMap<string, tf.Tensor>): Float32Array {
  return tf.tidy(() => {
    const f = feeds();
    return Float32Array.from(Object.values(run(g, params, f, { masks }).outputs)[0].dataSync());
  });
}
const maxAbsDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('structured pruning', () => {
  it('finds removable layers (not the output conv) and the bias and batch-norm params that follow them', () => {
    const params = ParamStore.init(graph, 1);
    const { layers, skipped } = channelLayers(
      graph,
      params,
      graph.params.filter((p) => p.role === 'weight'),
    );
    params.dispose();
    expect(layers.map((l) => [l.weight, l.channels, l.followers])).toEqual([
      [
        'camera.backbone.conv1.weight',
        6,
        ['camera.backbone.conv1.bias', 'camera.backbone.bn1.gamma', 'camera.backbone.bn1.beta'],
      ],
      [
        'camera.backbone.conv2.weight',
        5,
        ['camera.backbone.conv2.bias', 'camera.backbone.bn2.gamma', 'camera.backbone.bn2.beta'],
      ],
      ['lidar.backbone.pfn.weight', 4, []],
      ['fuser.fuse.weight', 4, ['fuser.fuse.bias']],
    ]);
    expect(skipped).toEqual(['fuser.head.weight']);
  });

  it('removal keeps the outputs identical for a model whose removed channels were already zero', () => {
    const params = ParamStore.init(graph, 1);
    const { layers } = channelLayers(
      graph,
      params,
      graph.params.filter((p) => p.role === 'weight'),
    );
    const keep = new Map([
      ['camera.backbone.conv1.weight', Uint8Array.of(1, 0, 1, 1, 0, 1)],
      ['camera.backbone.conv2.weight', Uint8Array.of(0, 1, 1, 1, 1)],
      ['lidar.backbone.pfn.weight', Uint8Array.of(1, 1, 0, 1)],
      ['fuser.fuse.weight', Uint8Array.of(1, 0, 1, 1)],
    ]);
    const masks = channelMasks(graph, layers, keep);
    tf.tidy(() => {
      for (const [name, m] of masks) params.get(name).assign(tf.mul(params.get(name), m));
    });
    const before = outputOf(graph, params);
    const removed = removePrunedChannels(graph, params, { params: masks });
    const after = outputOf(removed.graph, removed.params);
    expect(maxAbsDiff(before, after)).toBeLessThanOrEqual(1e-6);
    expect(removed.params.get('camera.backbone.conv2.weight').shape).toEqual([3, 3, 4, 4]);
    expect(removed.params.get('fuser.fuse.weight').shape).toEqual([3, 3, 4 + 3, 3]);
    expect(removed.params.get('fuser.head.weight').shape).toEqual([3, 3, 3, 2]);
    expect(removed.params.count()).toBeLessThan(params.count());
    [params, removed.params].forEach((p) => p.dispose());
    masks.forEach((m) => m.dispose());
  });

  it.each([
    ['altermoma', alterMoma({ sparsity: 0.5, structured: true, scoringBatches: 1, reactivationSteps: 2 })],
    ['magnitude', magnitudePrune({ sparsity: 0.5, structured: true })],
  ])(
    '%s: fine-tuned channel masks remove exactly ρ of the channels, and removal matches the masked model',
    async (_name, plugin) => {
      const before = tf.memory().numTensors;
      const result = await new Pipeline({
        seed: 3,
        graph,
        stages: [{ name: 'prune', steps: 3, data: syntheticData(graph), taskLoss }],
      })
        .use(plugin)
        .run();
      const weights = [
        'camera.backbone.conv1.weight',
        'camera.backbone.conv2.weight',
        'lidar.backbone.pfn.weight',
        'fuser.fuse.weight',
      ];
      const kept = weights.map((w) => tf.tidy(() => result.masks.params.get(w)!.sum().dataSync()[0]));
      expect(kept.reduce((a, b) => a + b, 0)).toBe(19 - Math.round(0.5 * 19));
      expect(kept.every((k) => k >= 1)).toBe(true);
      const masked = outputOf(result.graph, result.params, result.masks.params);
      const removed = removePrunedChannels(result.graph, result.params, result.masks);
      expect(maxAbsDiff(masked, outputOf(removed.graph, removed.params))).toBeLessThanOrEqual(1e-5);
      expect(removed.params.count()).toBeLessThan(result.params.count());
      [result.params, removed.params].forEach((p) => p.dispose());
      result.masks.params.forEach((m) => m.dispose());
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('exports the artifact with the pruned channels removed (structured) or says the file stays dense (unstructured)', async () => {
    const stage = { name: 'prune', steps: 2, data: syntheticData(graph), taskLoss };
    const structured = await new Pipeline({ seed: 3, graph, stages: [stage], export: {} })
      .use(magnitudePrune({ sparsity: 0.5, structured: true }))
      .run();
    const artifact = structured.artifact!;
    expect(artifact.reports).toEqual([
      expect.objectContaining({ plugin: 'prune-magnitude', summary: expect.stringMatching(/^structured: removed 10 of 19 output channels in 4 pruned layers$/) }),
    ]);
    const conv2 = artifact.graph.params.find((p) => p.name === 'camera.backbone.conv2.weight')!;
    expect(conv2.shape[3]).toBeLessThan(5);
    expect(artifact.params.total).toBeLessThan(graph.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0));
    // The file onnxruntime runs computes what the masked training model computed.
    const session = await createOrtSession(artifact.onnx);
    const f = feeds();
    const got = Object.values(await runOrt(session, f))[0].data;
    await session.release();
    tf.dispose(Object.values(f));
    expect(maxAbsDiff(outputOf(structured.graph, structured.params, structured.masks.params), Float32Array.from(got))).toBeLessThanOrEqual(1e-4);
    structured.params.dispose();
    structured.masks.params.forEach((m) => m.dispose());

    const unstructured = await new Pipeline({ seed: 3, graph, stages: [stage], export: {} }).use(magnitudePrune({ sparsity: 0.5 })).run();
    expect(unstructured.artifact!.reports[0].summary).toMatch(/^unstructured: 50\.\d% of the weights of 5 pruned layers are zero; ONNX stores them densely/);
    expect(unstructured.artifact!.params.nonZero).toBeLessThan(unstructured.artifact!.params.total * 0.6);
    unstructured.params.dispose();
    unstructured.masks.params.forEach((m) => m.dispose());
  });
});
