import { interp, linspace, mean, nanMean, pairwiseSum, roundHalfEven } from './numpy-compat';

describe('interp', () => {
  it('interpolates linearly and clamps to the end values by default', () => {
    expect(Array.from(interp([-1, 0, 0.25, 1, 2], [0, 1], [10, 20]))).toEqual([10, 10, 12.5, 20, 20]);
  });

  it('uses explicit left and right fill values outside the abscissae', () => {
    expect(Array.from(interp([-1, 0.5, 2], [0, 1], [10, 20], -5, 0))).toEqual([-5, 15, 0]);
  });

  it('takes the last of equal abscissae at a tie and interpolates from it', () => {
    // xp = [0, 1, 1, 2], fp = [0, 10, 4, 8]: at 1 → 4; at 1.5 → 6; at 0.5 → 5.
    expect(Array.from(interp([0.5, 1, 1.5], [0, 1, 1, 2], [0, 10, 4, 8]))).toEqual([5, 4, 6]);
  });

  it('handles a single abscissa and keeps NaN queries', () => {
    expect(Array.from(interp([0, 1, 2, NaN], [1], [7], -1, -2))).toEqual([-1, 7, -2, NaN]);
  });

  it('rejects mismatched inputs', () => {
    expect(() => interp([0], [0, 1], [1])).toThrow(/equally long/);
  });
});

describe('linspace', () => {
  it('computes i·step + start and pins the last value', () => {
    const r = linspace(0, 1, 101);
    expect(r[3]).toBe(3 * 0.01);
    expect(r[100]).toBe(1);
    expect(Array.from(linspace(2, 4, 3))).toEqual([2, 3, 4]);
  });
});

describe('pairwiseSum and means', () => {
  it('sums short arrays left to right', () => {
    // Left to right: (1e16 + 1) + 1 = 1e16 (each 1 is lost to rounding).
    expect(pairwiseSum([1e16, 1, 1])).toBe(1e16);
  });

  it('keeps 8 partial sums for arrays of 8..128 elements', () => {
    const a = [1e16, 1, 1, 1, 1, 1, 1, 1, -1e16, 1, 1, 1, 1, 1, 1, 1];
    // r0 = 1e16 − 1e16 = 0, r1..r7 = 2 each → 14.
    expect(pairwiseSum(a)).toBe(14);
    let sequential = 0;
    for (const v of a) sequential += v;
    expect(sequential).not.toBe(14);
  });

  it('splits arrays above 128 elements into halves rounded to multiples of 8', () => {
    const a = Array.from({ length: 300 }, (_, i) => (i % 7) + 0.1 * i);
    let exact = 0;
    for (let i = 0; i < 300; i++) exact += (i % 7) + 0.1 * i;
    expect(pairwiseSum(a)).toBeCloseTo(exact, 9);
    expect(pairwiseSum(a)).toBe(pairwiseSum(a, 0, 144) + pairwiseSum(a, 144, 156));
  });

  it('averages, ignoring NaN in nanMean', () => {
    expect(mean([1, 2, 3, 4])).toBe(2.5);
    expect(mean([])).toBeNaN();
    expect(nanMean([1, NaN, 3])).toBe(2);
    expect(nanMean([NaN, NaN])).toBeNaN();
  });
});

describe('roundHalfEven', () => {
  it('rounds halves to the even neighbour like Python', () => {
    expect([0.5, 1.5, 2.5, -2.5, -3.5, 10.000000000000002, 2.4].map(roundHalfEven)).toEqual([
      0, 2, 2, -2, -4, 10, 2,
    ]);
  });
});
