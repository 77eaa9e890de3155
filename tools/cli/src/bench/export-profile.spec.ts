import * as tf from '@tensorflow/tfjs';
import { createOrtSession, exportOnnx, initBackend, ParamStore, runOrt } from '@bevzip/ir';
import { tinyConvGraph } from '@bevzip/ir/testing';
import { opProfile } from './export';

describe('opProfile', () => {
  beforeAll(() => initBackend({ quiet: true }));

  it("sums onnxruntime's per-node times by op type, and the sum is about a run's wall time", async () => {
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
      const session = await createOrtSession(model, { threads: 1 });
      const used = Object.fromEntries(Object.entries(feeds).filter(([n]) => session.inputNames.includes(n)));
      await runOrt(session, used);
      const began = performance.now();
      for (let i = 0; i < 5; i++) await runOrt(session, used);
      const wall = (performance.now() - began) / 5;
      await session.release();
      const total = values.reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThan(0);
      // Kernel time is part of a run's wall time (which adds feed copies and scheduling).
      expect(total).toBeLessThan(wall * 3);
    } finally {
      tf.dispose(Object.values(feeds));
    }
  });
});
