import { batchKeypoints, boxKeypoints, gaussianMask, KEYPOINTS } from './keypoints';

const close = (got: number[][], want: number[][]) => {
  expect(got).toHaveLength(want.length);
  got.forEach((p, i) => p.forEach((v, j) => expect([i, j, v]).toEqual([i, j, expect.closeTo(want[i][j], 9)])));
};

describe('boxKeypoints', () => {
  it('a box turned by 90°: corners, centre and edge midpoints by hand', () => {
    // Centre (10, −4), length 4 along the heading (now +y), width 2.
    const kp = boxKeypoints({ x: 10, y: -4, length: 4, width: 2, yaw: Math.PI / 2 });
    close(kp, [[9, -2], [11, -2], [11, -6], [9, -6], [10, -4], [10, -2], [11, -4], [10, -6], [9, -4]]);
  });

  it('a box at atan2(3, 4) (cos 0.8, sin 0.6): by hand, corners clockwise', () => {
    const kp = boxKeypoints({ x: 0, y: 0, length: 10, width: 5, yaw: Math.atan2(3, 4) });
    // c1 = R·(5, 2.5) = (4 − 1.5, 3 + 2); c2 = R·(5, −2.5); c3 = R·(−5, −2.5); c4 = R·(−5, 2.5).
    close(kp, [[2.5, 5], [5.5, 1], [-2.5, -5], [-5.5, -1], [0, 0], [4, 3], [1.5, -2], [-4, -3], [-1.5, 2]]);
    const c = kp.slice(0, 4);
    const area = c.reduce((a, p, i) => a + p[0] * c[(i + 1) % 4][1] - c[(i + 1) % 4][0] * p[1], 0) / 2;
    expect(area).toBeCloseTo(-50, 9); // negative signed area: clockwise, |area| = l·w
  });
});

describe('batchKeypoints', () => {
  const grid = { xmin: -4, ymin: -8, cell: 1, size: [8, 16] as const };

  it('metres → continuous cells of each map, padded per sample, with the box mask', () => {
    const boxes = [[{ x: 0, y: 0, length: 2, width: 2, yaw: 0 }, { x: 2, y: 4, length: 2, width: 2, yaw: 0 }], []];
    // A 4×8 map over 8 m × 16 m: 2 m cells; x = 0 → u = 2 → row 1.5 (u − 0.5).
    const k = batchKeypoints(boxes, { rows: 4, cols: 8 }, grid);
    expect([k.maxBoxes, k.count]).toEqual([2, 2]);
    expect(Array.from(k.valid)).toEqual([1, 1, 0, 0]);
    expect(k.points.length).toBe(2 * 2 * KEYPOINTS * 2);
    const at = (b: number, box: number, i: number) => Array.from(k.points.slice(((b * 2 + box) * KEYPOINTS + i) * 2, ((b * 2 + box) * KEYPOINTS + i) * 2 + 2));
    expect(at(0, 0, 4)).toEqual([1.5, 3.5]); // centre (0, 0): u = 4/2, v = 8/2
    expect(at(0, 0, 0)).toEqual([2, 4]); // corner (1, 1)
    expect(at(0, 1, 4)).toEqual([2.5, 5.5]); // (2, 4): u = 6/2, v = 12/2
    expect(at(1, 0, 4)).toEqual([0, 0]); // padding
    // The same box on the finer 8×16 map (1 m cells).
    const fine = batchKeypoints(boxes, { rows: 8, cols: 16 }, grid);
    expect(Array.from(fine.points.slice(8, 10))).toEqual([3.5, 7.5]);
  });
});

describe('gaussianMask', () => {
  const grid = { xmin: 0, ymin: 0, cell: 1, size: [12, 12] as const };

  it('CenterPoint radius at overlap 0.7, σ = (2r+1)/6, window-truncated, max over boxes', () => {
    // 10 × 6 cells: r3 = (−22.4 + √(22.4² + 16·0.7·18))/2 = 2.06 → radius 2, σ = 5/6.
    // 4 × 2 cells: r3 = (−8.4 + √(8.4² + 16·0.7·2.4))/2 = 0.74 → radius 0 (its centre cell only).
    const boxes = [[{ x: 5.3, y: 4.9, length: 10, width: 6, yaw: 0.4 }, { x: 9.5, y: 9.5, length: 4, width: 2, yaw: 0 }]];
    const m = gaussianMask(boxes, { rows: 12, cols: 12 }, grid, { overlap: 0.7, minRadius: 0 });
    const at = (i: number, j: number) => m[i * 12 + j];
    const g = (d2: number) => Math.exp(-d2 / (2 * (5 / 6) ** 2));
    expect(at(5, 4)).toBeCloseTo(1, 6);
    expect(at(6, 4)).toBeCloseTo(g(1), 6);
    expect(at(7, 6)).toBeCloseTo(g(8), 6);
    expect(at(8, 4)).toBe(0); // outside the (2r+1)² window
    expect(at(9, 9)).toBeCloseTo(1, 6);
    expect(at(9, 8)).toBe(0);
    expect(at(10, 9)).toBe(0);
    let nonzero = 0;
    m.forEach((v) => (nonzero += v > 0 ? 1 : 0));
    expect(nonzero).toBe(25 + 1);
  });

  it('a larger minimum radius widens the small box, and centres off the map draw nothing', () => {
    const boxes = [[{ x: 9.5, y: 9.5, length: 4, width: 2, yaw: 0 }], [{ x: 40, y: 1, length: 4, width: 2, yaw: 0 }]];
    const m = gaussianMask(boxes, { rows: 12, cols: 12 }, grid, { overlap: 0.7, minRadius: 1 });
    expect(m[9 * 12 + 8]).toBeCloseTo(Math.exp(-1 / (2 * 0.5 ** 2)), 6);
    expect(m.subarray(144).every((v) => v === 0)).toBe(true);
  });
});
