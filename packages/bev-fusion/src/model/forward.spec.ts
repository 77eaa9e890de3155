import * as tf from '@tensorflow/tfjs';
import { ParamStore, run, type Graph } from '@bevzip/ir';
import { expectClose, expectNoLeak } from '@bevzip/ir/testing';
import { buildBevFusion, MODEL_INPUTS } from './build';
import { MICRO_CONFIG, modelGeometry, TINY_CONFIG, type ModelModality } from './config';
import { randomModelFeeds } from './random-feeds';

const disposeAll = (...groups: Record<string, tf.Tensor>[]) =>
  groups.forEach((g) => Object.values(g).forEach((t) => t.dispose()));

/** Sample `s` of a batched feed dict (images carry `cameras` rows per sample). */
function sampleOf(feeds: Record<string, tf.Tensor>, s: number, cameras: number): Record<string, tf.Tensor> {
  return Object.fromEntries(
    Object.entries(feeds).map(([name, t]) => {
      const rows = name === MODEL_INPUTS.images ? cameras : 1;
      return [name, t.slice([s * rows], [rows])];
    }),
  );
}

describe('BEVFusion forward', () => {
  const micro = Object.fromEntries(
    (['fusion', 'camera', 'lidar'] as ModelModality[]).map((m) => [m, buildBevFusion(MICRO_CONFIG, m)]),
  ) as Record<ModelModality, Graph>;
  // The fuser's input width differs between variants, so each gets its own weights.
  const stores = Object.fromEntries(
    Object.entries(micro).map(([m, g]) => [m, ParamStore.init(g, 1)]),
  ) as Record<ModelModality, ParamStore>;
  const params = stores.fusion;
  afterAll(() => Object.values(stores).forEach((s) => s.dispose()));

  it.each(['fusion', 'camera', 'lidar'] as ModelModality[])(
    'runs the micro %s model on a batch of two with the declared shapes and finite outputs',
    (modality) => {
      const feeds = randomModelFeeds(MICRO_CONFIG, modality, { batch: 2, seed: 3 });
      const { outputs } = run(micro[modality], stores[modality], feeds);
      expect(Object.keys(outputs)).toEqual(['heatmap', 'reg', 'map']);
      expect(outputs.heatmap.shape).toEqual([2, 16, 16, 6]);
      expect(outputs.reg.shape).toEqual([2, 16, 16, 10]);
      expect(outputs.map.shape).toEqual([2, 32, 32, 2]);
      for (const t of Object.values(outputs)) expect(tf.all(tf.isFinite(t)).dataSync()[0]).toBe(1);
      disposeAll(feeds, outputs);
    },
  );

  it('keeps samples apart: each sample of a batch gives what it gives alone', () => {
    const feeds = randomModelFeeds(MICRO_CONFIG, 'fusion', { batch: 2, seed: 4 });
    const batched = run(micro.fusion, params, feeds).outputs;
    for (const s of [0, 1]) {
      const single = sampleOf(feeds, s, MICRO_CONFIG.cameras);
      const alone = run(micro.fusion, params, single).outputs;
      for (const name of ['heatmap', 'reg', 'map'])
        expectClose(alone[name], batched[name].slice([s], [1]), 1e-4);
      disposeAll(single, alone);
    }
    disposeAll(feeds, batched);
  });

  it('lifts and pools camera features as a direct float64 computation does', () => {
    const feeds = randomModelFeeds(MICRO_CONFIG, 'camera', { batch: 2, seed: 5 });
    const depthnet = 'encoders.camera.vtransform.depthnet.conv';
    const pooled = 'encoders.camera.vtransform.bev_pool';
    const { taps, outputs } = run(micro.camera, stores.camera, feeds, { taps: [depthnet, pooled] });
    const { featH, featW, depthBins: d, frustumPoints } = modelGeometry(MICRO_CONFIG);
    const c = MICRO_CONFIG.camera.context;
    const cells = MICRO_CONFIG.grid.size[0] * MICRO_CONFIG.grid.size[1];
    const net = taps[depthnet].dataSync();
    const index = feeds[MODEL_INPUTS.camBevIndex].dataSync();
    const ref = new Float64Array(2 * cells * c);
    const pixelsPerSample = MICRO_CONFIG.cameras * featH * featW;
    for (let px = 0; px < 2 * pixelsPerSample; px++) {
      const b = Math.floor(px / pixelsPerSample);
      const logits = Array.from({ length: d }, (_, k) => net[px * (d + c) + k]);
      const top = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - top));
      const z = e.reduce((a, v) => a + v, 0);
      for (let k = 0; k < d; k++) {
        const cell = index[b * frustumPoints + (px % pixelsPerSample) * d + k];
        if (cell < 0) continue;
        for (let ch = 0; ch < c; ch++)
          ref[(b * cells + cell) * c + ch] += (e[k] / z) * net[px * (d + c) + d + ch];
      }
    }
    expectClose(taps[pooled], ref, 1e-5);
    disposeAll(feeds, taps, outputs);
  });

  it('encodes pillars (linear, eval BN, ReLU, masked max, scatter) as a direct float64 computation does', () => {
    const feeds = randomModelFeeds(MICRO_CONFIG, 'lidar', { batch: 2, seed: 6 });
    const scatter = 'encoders.lidar.backbone.scatter';
    const { taps, outputs } = run(micro.lidar, stores.lidar, feeds, { taps: [scatter] });
    const { maxPillars: p, maxPoints: m, pointFeatures: f, channels: c } = MICRO_CONFIG.lidar;
    const [rows, cols] = MICRO_CONFIG.grid.size;
    const get = (n: string) => stores.lidar.get(`encoders.lidar.backbone.pfn.${n}`).dataSync();
    const [w, gamma, beta, mean, variance] = [
      'linear.weight',
      'bn.gamma',
      'bn.beta',
      'bn.running_mean',
      'bn.running_var',
    ].map(get);
    const x = feeds[MODEL_INPUTS.pillarFeatures].dataSync();
    const mask = feeds[MODEL_INPUTS.pillarMask].dataSync();
    const coords = feeds[MODEL_INPUTS.pillarCoords].dataSync();
    const ref = new Float64Array(2 * rows * cols * c);
    for (let slot = 0; slot < 2 * p; slot++) {
      const [i, j] = [coords[slot * 2], coords[slot * 2 + 1]];
      if (i < 0) continue;
      const b = Math.floor(slot / p);
      for (let ch = 0; ch < c; ch++) {
        let best = -Infinity;
        for (let pt = 0; pt < m; pt++) {
          if (!mask[slot * m + pt]) continue;
          let dot = 0;
          for (let k = 0; k < f; k++) dot += x[(slot * m + pt) * f + k] * w[k * c + ch];
          const y = ((dot - mean[ch]) / Math.sqrt(variance[ch] + MICRO_CONFIG.bn.eps)) * gamma[ch] + beta[ch];
          best = Math.max(best, Math.max(y, 0));
        }
        ref[((b * rows + i) * cols + j) * c + ch] = best === -Infinity ? 0 : best;
      }
    }
    expectClose(taps[scatter], ref, 1e-5);
    disposeAll(feeds, taps, outputs);
  });

  it('returns new running statistics for every batch norm in training mode, and leaks no tensors', () => {
    const feeds = randomModelFeeds(MICRO_CONFIG, 'fusion', { batch: 1, seed: 7 });
    const running = micro.fusion.params.filter((q) => q.role === 'state').map((q) => q.name);
    const first = run(micro.fusion, params, feeds, { training: true });
    expect(Object.keys(first.state).sort()).toEqual([...running].sort());
    const fuserMean = first.state['fuser.bn.running_mean'].dataSync();
    expect(Math.max(...Array.from(fuserMean, Math.abs))).toBeGreaterThan(0);
    disposeAll(first.outputs, first.state);
    expectNoLeak(() => {
      const r = run(micro.fusion, params, feeds, { training: true });
      disposeAll(r.outputs, r.state);
    }, 2);
    expectNoLeak(() => disposeAll(run(micro.fusion, params, feeds).outputs), 2);
    disposeAll(feeds);
  });

  it('runs the tiny fusion model forward with the interface shapes and no leak', () => {
    const graph = buildBevFusion(TINY_CONFIG, 'fusion');
    const store = ParamStore.init(graph, 2);
    const feeds = randomModelFeeds(TINY_CONFIG, 'fusion', { batch: 1, seed: 8 });
    const { outputs } = run(graph, store, feeds);
    expect([outputs.heatmap.shape, outputs.reg.shape, outputs.map.shape]).toEqual([
      [1, 32, 32, 6],
      [1, 32, 32, 10],
      [1, 64, 64, 2],
    ]);
    disposeAll(outputs);
    expectNoLeak(() => disposeAll(run(graph, store, feeds).outputs), 1);
    disposeAll(feeds);
    store.dispose();
  });
});
