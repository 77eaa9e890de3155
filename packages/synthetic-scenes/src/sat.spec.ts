import { rectCorners, rectsOverlap } from './sat';

describe('rectsOverlap', () => {
  const a = { x: 0, y: 0, length: 4, width: 2, yaw: 0 };

  it('separates axis-aligned rectangles with a gap and honours the clearance margin', () => {
    // a spans x ∈ [−2, 2]; b spans x ∈ [2.2, 4.2]: a 0.2 m gap.
    const b = { x: 3.2, y: 0, length: 2, width: 2, yaw: 0 };
    expect(rectsOverlap(a, b)).toBe(false);
    expect(rectsOverlap(a, b, 0.1)).toBe(false);
    expect(rectsOverlap(a, b, 0.3)).toBe(true);
  });

  it('detects a rotated rectangle whose corner pokes into the other', () => {
    // A unit square turned 45° reaches √2/2 ≈ 0.707 from its centre along x.
    const diamond = { x: 2.6, y: 0, length: 1, width: 1, yaw: Math.PI / 4 };
    expect(rectsOverlap(a, diamond)).toBe(true);
    expect(rectsOverlap(a, { ...diamond, x: 2.75 })).toBe(false);
  });

  it('finds no separating edge normal for crossed rectangles whose corners are all outside', () => {
    const cross = { x: 0, y: 0, length: 4, width: 2, yaw: Math.PI / 2 };
    expect(rectsOverlap(a, cross)).toBe(true);
  });

  it('uses the diagonal axes of a rotated rectangle', () => {
    // Square [−1, 1]² and a 2×2 diamond at (1.9, 1.9): x and y projections overlap, but along the
    // diagonal the half extents are √2 and 1 while the centres are 1.9·√2 ≈ 2.69 apart.
    const square = { x: 0, y: 0, length: 2, width: 2, yaw: 0 };
    const diamond = { x: 1.9, y: 1.9, length: 2, width: 2, yaw: Math.PI / 4 };
    expect(rectsOverlap(square, diamond)).toBe(false);
    // At (1.6, 1.6) the centres are 2.26 apart along the diagonal, under √2 + 1.
    expect(rectsOverlap(square, { ...diamond, x: 1.6, y: 1.6 })).toBe(true);
  });

  it('lists corners counter-clockwise', () => {
    const corners = rectCorners({ x: 1, y: 2, length: 4, width: 2, yaw: Math.PI / 2 });
    const expected = [[0, 4], [0, 0], [2, 0], [2, 4]];
    corners.forEach((p, k) => {
      expect(p[0]).toBeCloseTo(expected[k][0], 12);
      expect(p[1]).toBeCloseTo(expected[k][1], 12);
    });
  });
});
