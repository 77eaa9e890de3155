import { Rng, hash32, hexToken, substream } from './rng';

/** splitmix32 (lowbias32 output mix) written with BigInt arithmetic as an independent reference. */
function referenceSequence(seed: number, n: number): number[] {
  const M = 0xffffffffn;
  let state = BigInt(seed >>> 0);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    state = (state + 0x9e3779b9n) & M;
    let z = state;
    z = ((z ^ (z >> 16n)) * 0x21f0aaadn) & M;
    z = ((z ^ (z >> 15n)) * 0x735a2d97n) & M;
    out.push(Number(z ^ (z >> 15n)));
  }
  return out;
}

describe('Rng', () => {
  it('matches a BigInt reference of splitmix32', () => {
    for (const seed of [0, 1, 0xdeadbeef, 123456789]) {
      const rng = new Rng(seed);
      expect(Array.from({ length: 8 }, () => rng.nextU32())).toEqual(referenceSequence(seed, 8));
    }
  });

  it('produces uniform values with mean 1/2 and variance 1/12', () => {
    const rng = new Rng(7);
    const xs = Array.from({ length: 20000 }, () => rng.next());
    const mean = xs.reduce((a, b) => a + b) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.003);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });

  it('draws normals with the requested moments', () => {
    const rng = new Rng(3);
    const xs = Array.from({ length: 20000 }, () => rng.normal(2, 0.5));
    const mean = xs.reduce((a, b) => a + b) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(mean).toBeCloseTo(2, 1);
    expect(sd).toBeCloseTo(0.5, 1);
  });

  it('keys substreams by seed, scene and purpose', () => {
    const first = (r: Rng) => r.nextU32();
    expect(first(substream(0, 1, 'layout'))).toBe(first(substream(0, 1, 'layout')));
    const variants = [substream(0, 1, 'layout'), substream(1, 1, 'layout'), substream(0, 2, 'layout'), substream(0, 1, 'objects'), substream(0, 1, 'lidar', 0), substream(0, 1, 'lidar', 1)];
    expect(new Set(variants.map(first)).size).toBe(variants.length);
  });

  it('hashes order-sensitively and makes 32-digit hex tokens', () => {
    expect(hash32(1, 2)).not.toBe(hash32(2, 1));
    expect(hash32('ab')).not.toBe(hash32('ba'));
    expect(hexToken(0, 'sample', 3)).toMatch(/^[0-9a-f]{32}$/);
    expect(hexToken(0, 'sample', 3)).toBe(hexToken(0, 'sample', 3));
    expect(hexToken(0, 'sample', 3)).not.toBe(hexToken(0, 'sample', 4));
  });
});
