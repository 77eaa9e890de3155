import { Rng } from '@bevzip/ir';
import { globalTopK, keepCount, l1Normalize } from './threshold';

const count = (m: Map<string, Uint8Array>) =>
  [...m.values()].reduce((n, k) => n + k.reduce((a, b) => a + b, 0), 0);

describe('globalTopK', () => {
  it('keeps the highest scores across params under one threshold', () => {
    const keep = globalTopK(
      new Map([
        ['a', Float32Array.of(5, -1, 3)],
        ['b', Float32Array.of(4, 0)],
      ]),
      3,
    );
    expect([...keep.get('a')!]).toEqual([1, 0, 1]);
    expect([...keep.get('b')!]).toEqual([1, 0]);
  });

  it('keeps exactly k when scores tie at the threshold, the earlier units first', () => {
    const keep = globalTopK(
      new Map([
        ['a', Float32Array.of(1, 2, 2)],
        ['b', Float32Array.of(2, 2)],
      ]),
      3,
    );
    expect([...keep.get('a')!]).toEqual([0, 1, 1]);
    expect([...keep.get('b')!]).toEqual([1, 0]);
  });

  it('keeps exactly (1 − ρ)·N on random scores for every sparsity', () => {
    const rng = Rng.derive(3, 'threshold');
    const scores = new Map(
      ['x', 'y', 'z'].map((n, i) => [
        n,
        Float32Array.from({ length: 97 + i * 50 }, () => Math.round(rng.next() * 20) / 4),
      ]),
    );
    const n = 97 + 147 + 197;
    for (const rho of [0, 0.3, 0.5, 0.8, 0.85, 0.9, 1]) {
      const keep = globalTopK(scores, keepCount(n, rho));
      expect(count(keep)).toBe(n - Math.round(rho * n));
      // Every kept score is at least every pruned one.
      const kept = [...scores].flatMap(([name, s]) => [...s].filter((_, i) => keep.get(name)![i]));
      const pruned = [...scores].flatMap(([name, s]) => [...s].filter((_, i) => !keep.get(name)![i]));
      if (kept.length && pruned.length) expect(Math.min(...kept)).toBeGreaterThanOrEqual(Math.max(...pruned));
    }
  });

  it('counts forced units toward k and ranks NaN lowest', () => {
    const keep = globalTopK(
      new Map([['a', Float32Array.of(Number.NaN, 1, 9, 8)]]),
      2,
      new Map([['a', Uint8Array.of(0, 1, 0, 0)]]),
    );
    expect([...keep.get('a')!]).toEqual([0, 1, 1, 0]);
  });

  it('rejects a keep count outside 0…N with a coded error', () => {
    expect(() => globalTopK(new Map([['a', Float32Array.of(1)]]), 2)).toThrow(
      expect.objectContaining({ code: 'E_CONFIG' }),
    );
  });
});

describe('l1Normalize', () => {
  it('divides by the given sum and leaves an all-zero group at zero', () => {
    expect([...l1Normalize(Float32Array.of(1, 3), 4)]).toEqual([0.25, 0.75]);
    expect([...l1Normalize(Float32Array.of(0, 0), 0)]).toEqual([0, 0]);
  });
});
