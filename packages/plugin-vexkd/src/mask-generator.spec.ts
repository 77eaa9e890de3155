import * as tf from '@tensorflow/tfjs';
import { maskNetOptions, MaskGenerator } from './mask-generator';

describe('MaskGenerator', () => {
  it.each([
    ['low level (map at the query size)', [8, 8, 6] as const, [2, 8, 8, 4]],
    ['high level (map at half the query size)', [4, 4, 10] as const, [2, 4, 4, 4]],
  ])('gives masks in [0, 1] of the map size and per-task weights summing to 1: %s', (_, map, want) => {
    const gen = new MaskGenerator({ queryGrid: [8, 8], width: 8, map, tasks: 2 }, maskNetOptions.parse({ blocks: 2, perTask: 2 }), 1);
    const queries = tf.randomNormal([2, 64, 8], 0, 1, 'float32', 2);
    const f = tf.randomNormal([2, map[0], map[1], map[2]], 0, 1, 'float32', 3);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 2; i++) {
      const { masks, weights } = gen.forward(queries, f);
      expect(masks.shape).toEqual(want);
      const m = masks.dataSync();
      expect(Math.min(...m)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...m)).toBeLessThanOrEqual(1);
      expect(new Set(Array.from(m).map((x) => x.toFixed(4))).size).toBeGreaterThan(4);
      const w = weights.arraySync();
      expect(w).toHaveLength(2);
      for (const row of w) expect(row.reduce((a, x) => a + x, 0)).toBeCloseTo(1, 6);
      tf.dispose([masks, weights]);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(gen.graph.nodes.every((n) => n.tags.trainOnly)).toBe(true);
    tf.dispose([queries, f]);
    gen.dispose();
  });

  it('refuses a teacher map that does not tile the query grid', () => {
    expect(() => new MaskGenerator({ queryGrid: [8, 8], width: 8, map: [3, 3, 4], tasks: 1 }, maskNetOptions.parse({}), 0)).toThrow(/teacher map 3×3 must divide the 8×8 BEV queries/);
  });
});
