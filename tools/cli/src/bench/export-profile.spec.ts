import * as tf from '@tensorflow/tfjs';
import { exportOnnx, initBackend, ParamStore } from '@bevzip/ir';
import { tinyConvGraph } from '@bevzip/ir/testing';
import { opProfile } from './export';

describe('opProfile', () => {
  beforeAll(() => initBackend({ quiet: true }));

  it("sums onnxruntime's per-node times by op type, largest first", async () => {
    const graph = tinyConvGraph();
    const params = ParamStore.init(graph, 0);
    const model = exportOnnx(graph, params);
    params.dispose();
    const feeds = { image: tf.randomNormal([64, 6, 6, 2], 0, 1, 'float32', 1), target: tf.zeros([64, 6, 6, 2]) };
    try {
      const profile = await opProfile(model, feeds, 5);
      expect(Object.keys(profile)).toContain('Conv');
      for (const ms of Object.values(profile)) expect(ms).toBeGreaterThanOrEqual(0);
      // Sorted, largest first.
      const values = Object.values(profile);
      expect(values).toEqual([...values].sort((a, b) => b - a));
      expect(values.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    } finally {
      tf.dispose(Object.values(feeds));
    }
  });
});
