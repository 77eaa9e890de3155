import { BevzipError } from '@bevzip/ir';
import { IDENTITY_POSE } from '@bevzip/driving-data';
import { generateScene, TINY_RIG } from '@bevzip/synthetic-scenes';
import { bevCellOf } from './camera-geometry';
import { createTaskConfig, TINY_TASK_CONFIG as CFG } from './config';
import { PILLAR_FEATURES, pillarize } from './pillarize';

const F = PILLAR_FEATURES;
const cloud = (...pts: number[][]) => Float32Array.from(pts.flatMap((p) => [...p, 0]));

describe('pillarize', () => {
  it('moves one LIDAR_TOP point to the ego frame and into the cell row ↔ x, column ↔ y with all nine features', () => {
    // LIDAR_TOP is x-right / y-forward: sensor (−3, 10, −1.5) → ego (10 + 0.94, 3, −1.5 + 1.84).
    const p = pillarize({ calib: TINY_RIG.lidar.calib, points: cloud([-3, 10, -1.5, 100]) }, CFG);
    expect(p.numPillars).toBe(1);
    expect(Array.from(p.coords.subarray(0, 4))).toEqual([45, 35, -1, -1]);
    const f = Array.from(p.features.subarray(0, F));
    const expected = [10.94, 3, 0.34, 100 / 255, 0, 0, 0, 10.94 - 10.8, 3 - 2.8];
    f.forEach((v, k) => expect(v).toBeCloseTo(expected[k], 5));
    expect(p.mask[0]).toBe(1);
    expect(p.mask[1]).toBe(0);
    expect(Array.from(p.features.subarray(F, 2 * F))).toEqual(new Array(F).fill(0));
  });

  it('offsets points from the pillar point mean and centre', () => {
    const p = pillarize(
      { calib: IDENTITY_POSE, points: cloud([0.1, 0.2, 1, 0], [0.5, 0.6, 2, 255], [0.3, 0.1, 0, 0]) },
      CFG,
    );
    expect(p.numPillars).toBe(1);
    expect(Array.from(p.coords.subarray(0, 2))).toEqual([32, 32]);
    const mean = [0.3, 0.3, 1];
    const rows = [0, 1, 2].map((k) => Array.from(p.features.subarray(k * F, (k + 1) * F)));
    expect(rows[1][3]).toBeCloseTo(1, 6);
    expect(rows[0][4]).toBeCloseTo(0.1 - mean[0], 6);
    expect(rows[1][5]).toBeCloseTo(0.6 - mean[1], 6);
    expect(rows[2][6]).toBeCloseTo(0 - mean[2], 6);
    expect(rows[1][7]).toBeCloseTo(0.5 - 0.4, 6);
    expect(rows[2][8]).toBeCloseTo(0.1 - 0.4, 6);
  });

  it('keeps the first P pillars and the first M points of each, and drops points outside the grid or z range', () => {
    const cfg = createTaskConfig({ lidar: { maxPillars: 2, maxPointsPerPillar: 2, intensityScale: 1 } });
    const pts = cloud(
      [5, 5, 0, 1],
      [0, 0, 0, 2],
      [5.1, 5.1, 0, 3],
      [5.2, 5.2, 0, 4],
      [-9, -9, 0, 5],
      [0.1, 0.1, 0, 6],
      [30, 0, 0, 7],
      [0, 0, 12, 8],
    );
    const p = pillarize({ calib: IDENTITY_POSE, points: pts }, cfg);
    expect(p.numPillars).toBe(2);
    expect(Array.from(p.coords)).toEqual([38, 38, 32, 32]);
    const intensities = [0, 1, 2, 3].map((k) => p.features[k * F + 3]);
    expect(intensities).toEqual([1, 3, 2, 6]);
    expect(Array.from(p.mask)).toEqual([1, 1, 1, 1]);
    expect(p.numPoints).toBe(4);
    expect(p.numDropped).toBe(2);
  });

  it('agrees with the per-point cell rule on a synthetic sweep and stays fast', () => {
    const [frame] = generateScene({ seed: 3, sceneIndex: 0, frames: 1, cameras: false });
    const t0 = performance.now();
    const p = pillarize(frame.lidar, CFG);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(200);
    expect(p.numPillars).toBeGreaterThan(100);
    let real = 0;
    let wrongCell = 0;
    for (let s = 0; s < CFG.lidar.maxPillars; s++) {
      for (let k = 0; k < CFG.lidar.maxPointsPerPillar; k++) {
        if (!p.mask[s * 12 + k]) continue;
        real++;
        const o = (s * 12 + k) * F;
        if (
          bevCellOf(CFG, p.features[o], p.features[o + 1], p.features[o + 2]) !==
          p.coords[2 * s] * 64 + p.coords[2 * s + 1]
        )
          wrongCell++;
      }
    }
    expect(wrongCell).toBe(0);
    expect(real).toBe(p.numPoints);
    const again = pillarize(frame.lidar, CFG);
    expect(Buffer.from(again.features.buffer).equals(Buffer.from(p.features.buffer))).toBe(true);
  });

  it('rejects a cloud whose length is not a multiple of the stride', () => {
    expect(() => pillarize({ calib: IDENTITY_POSE, points: new Float32Array(7) }, CFG)).toThrow(BevzipError);
  });
});
