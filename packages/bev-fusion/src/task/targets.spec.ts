import { BevzipError } from '@bevzip/ir';
import {
  boxEgoToGlobal,
  IDENTITY_POSE,
  quatFromYaw,
  type Box3D,
  type MapLabels,
  type Pose,
} from '@bevzip/driving-data';
import { bevCellOf } from './camera-geometry';
import { createTaskConfig, TINY_TASK_CONFIG as CFG } from './config';
import { drawGaussian, gaussianKernel, gaussianRadius, heatmapRadius } from './gaussian';
import { pillarize } from './pillarize';
import { buildDetectionTargets, buildMapTargets, egoBoxes } from './targets';

const EGO: Pose = { translation: [812.5, -40.25, 0], rotation: quatFromYaw(2.1) };

function box(over: Partial<Box3D>): Box3D {
  return {
    center: [10, -3, 0.8],
    size: [4.6, 1.95, 1.7],
    yaw: 0.3,
    velocity: [2, -1],
    detectionName: 'car',
    categoryName: 'vehicle.car',
    attributeName: 'vehicle.moving',
    numLidarPts: 10,
    visibility: 4,
    instanceId: 'a',
    ...over,
  };
}

function labels(cell: number, size: [number, number], set: [number, number][]): MapLabels {
  const masks = [new Uint8Array(size[0] * size[1]), new Uint8Array(size[0] * size[1])];
  for (const [i, j] of set) masks[1][i * size[1] + j] = 1;
  return { classes: ['divider', 'drivable_area'], xmin: -25.6, ymin: -25.6, cell, size, masks };
}

describe('Gaussian radius and kernel', () => {
  it('takes the smallest of the three CornerNet roots (hand-computed cases)', () => {
    // h=10, w=5, o=0.1: r1 = (15 + √(225 − 163.64))/2 = 11.4167, r2 = 21.7082, r3 = (−3 + √81)/2 = 3.
    expect(gaussianRadius(10, 5, 0.1)).toBeCloseTo(3, 12);
    // h=w=2: r3 = (−0.8 + √6.4)/2 = 0.864911.
    expect(gaussianRadius(2, 2, 0.1)).toBeCloseTo(0.8649110640673517, 12);
    expect(gaussianRadius(4.6 / 1.6, 1.95 / 1.6, 0.1)).toBeCloseTo(0.7860304293941449, 12);
    expect(heatmapRadius(4.6 / 1.6, 1.95 / 1.6, 0.1, 1)).toBe(1);
    expect(heatmapRadius(10, 5, 0.1, 1)).toBe(3);
    expect(heatmapRadius(10, 5, 0.1, 4)).toBe(4);
  });

  it('draws exp(−d²/2σ²) with σ = (2r+1)/6, merged by max and clipped at the border', () => {
    const k = gaussianKernel(1);
    expect(Array.from(k)).toEqual([
      Math.exp(-4),
      Math.exp(-2),
      Math.exp(-4),
      Math.exp(-2),
      1,
      Math.exp(-2),
      Math.exp(-4),
      Math.exp(-2),
      Math.exp(-4),
    ]);
    expect(gaussianKernel(2)[2]).toBeCloseTo(Math.exp(-4 / (2 * (5 / 6) ** 2)), 15);
    const hm = new Float32Array(3 * 3 * 2);
    hm[(0 * 3 + 1) * 2 + 1] = 0.5;
    drawGaussian(hm, [3, 3, 2], 1, 0, 0, 1);
    expect(hm[1]).toBe(1);
    expect(hm[(0 * 3 + 1) * 2 + 1]).toBe(0.5);
    expect(hm[(1 * 3 + 1) * 2 + 1]).toBeCloseTo(Math.exp(-4), 7);
    expect(hm[(2 * 3 + 2) * 2 + 1]).toBe(0);
    expect(hm[0]).toBe(0);
  });
});

describe('detection targets', () => {
  it('encodes an ego box at its head cell, read from a global box through the ego pose', () => {
    const global = boxEgoToGlobal(box({}), EGO);
    const [ego] = egoBoxes({ boxes: [global], egoPose: EGO });
    expect(ego.center[0]).toBeCloseTo(10, 9);
    const t = buildDetectionTargets([ego], CFG);
    // c = ((10, −3) − (−25.6))/1.6 = (22.25, 14.125) → cell (22, 14).
    const at = (i: number, j: number, c: number) => t.heatmap[(i * 32 + j) * 6 + c];
    expect(at(22, 14, 0)).toBe(1);
    expect(at(23, 14, 0)).toBeCloseTo(Math.exp(-2), 6);
    expect(at(22, 14, 1)).toBe(0);
    expect(t.numObjects).toBe(1);
    const o = (22 * 32 + 14) * 10;
    const want = [
      0.25,
      0.125,
      0.8,
      Math.log(4.6),
      Math.log(1.95),
      Math.log(1.7),
      Math.sin(0.3),
      Math.cos(0.3),
      2,
      -1,
    ];
    want.forEach((v, c) => expect(t.reg[o + c]).toBeCloseTo(v, 5));
    expect(Array.from(t.regWeight.subarray(o, o + 10))).toEqual(new Array(10).fill(1));
    expect(t.regWeight.reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('skips boxes outside the grid, of other classes or without LiDAR points, zero-weights a NaN velocity and keeps the first box of a shared cell', () => {
    const t = buildDetectionTargets(
      [
        box({ center: [26, 0, 0] }),
        box({ detectionName: 'bus' }),
        box({ numLidarPts: 0 }),
        box({ detectionName: 'pedestrian', velocity: [NaN, NaN] }),
        box({ center: [10.1, -2.9, 0.5] }),
      ],
      CFG,
    );
    expect(t.boxes.map((b) => b.classIndex)).toEqual([2, 0]);
    expect(t.numObjects).toBe(1);
    const o = (22 * 32 + 14) * 10;
    expect(Array.from(t.regWeight.subarray(o, o + 10))).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
    expect(t.reg[o + 2]).toBeCloseTo(0.8, 6);
    expect(t.heatmap[(22 * 32 + 14) * 6 + 0]).toBe(1);
    expect(t.heatmap[(22 * 32 + 14) * 6 + 2]).toBe(1);
    const all = buildDetectionTargets([box({ numLidarPts: 0 })], {
      ...CFG,
      targets: { ...CFG.targets, minLidarPoints: 0 },
    });
    expect(all.numObjects).toBe(1);
  });
});

describe('map targets', () => {
  it('picks classes by name and copies labels on the same grid', () => {
    const t = buildMapTargets(labels(0.8, [64, 64], [[5, 7]]), CFG);
    expect(t[(5 * 64 + 7) * 2 + 0]).toBe(1);
    expect(t.reduce((a, b) => a + b, 0)).toBe(1);
    expect(() =>
      buildMapTargets(labels(0.8, [64, 64], []), { ...CFG, mapClasses: ['stop_line'] }, 'tok'),
    ).toThrow(BevzipError);
  });

  it('resamples labels of another grid by the label cell under each target cell centre', () => {
    const t = buildMapTargets(labels(0.4, [128, 128], [[89, 55]]), CFG);
    expect(t[(44 * 64 + 27) * 2 + 0]).toBe(1);
    expect(t.reduce((a, b) => a + b, 0)).toBe(1);
  });
});

describe('one point, one cell on every path', () => {
  it('sends (10.3, −3.3) to cell (44, 27) in the camera pool, pillars, heat map and map labels', () => {
    const [x, y, z] = [10.3, -3.3, 0.5];
    const cell = 44 * 64 + 27;
    expect(bevCellOf(CFG, x, y, z)).toBe(cell);
    const p = pillarize({ calib: IDENTITY_POSE, points: Float32Array.from([x, y, z, 0, 0]) }, CFG);
    expect(Array.from(p.coords.subarray(0, 2))).toEqual([44, 27]);
    const stride1 = createTaskConfig({ headStride: 1 });
    const t = buildDetectionTargets([box({ center: [x, y, z] })], stride1);
    expect(t.heatmap[cell * 6]).toBe(1);
    const m = buildMapTargets(
      labels(0.4, [128, 128], [[Math.floor((x + 25.6) / 0.4), Math.floor((y + 25.6) / 0.4)]]),
      CFG,
    );
    expect(m[cell * 2]).toBe(1);
  });
});
