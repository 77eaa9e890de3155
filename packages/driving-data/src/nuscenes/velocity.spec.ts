import type { Vec3 } from '../geometry/pose';
import { boxVelocity } from './velocity';

type Ann = { translation: Vec3; sample_token: string; prev: string; next: string };

function source(anns: Record<string, Ann>, times: Record<string, number>) {
  return { annotation: (t: string) => anns[t], sampleTimestamp: (t: string) => times[t] };
}

describe('boxVelocity (devkit box_velocity)', () => {
  const times = { s0: 0, s1: 500_000, s2: 1_000_000, s9: 4_000_000 };
  const anns: Record<string, Ann> = {
    a: { translation: [0, 0, 0], sample_token: 's0', prev: '', next: 'b' },
    b: { translation: [1, 0.5, 0], sample_token: 's1', prev: 'a', next: 'c' },
    c: { translation: [3, 1, 0.2], sample_token: 's2', prev: 'b', next: 'd' },
    d: { translation: [9, 1, 0.2], sample_token: 's9', prev: 'c', next: '' },
    lone: { translation: [5, 5, 5], sample_token: 's1', prev: '', next: '' },
  };
  const src = source(anns, times);

  it('takes the centred difference over the neighbours', () => {
    // (c − a) / 1 s
    expect(boxVelocity(src, 'b')).toEqual([3, 1, 0.2]);
  });

  it('takes a one-sided difference at the start of a track', () => {
    // (b − a) / 0.5 s
    expect(boxVelocity(src, 'a')).toEqual([2, 1, 0]);
  });

  it('allows twice max_time_diff for a centred difference but not for a one-sided one', () => {
    // c: centred over b (0.5 s) and d (4 s): span 3.5 s > 3 s → NaN
    expect(boxVelocity(src, 'c').every(Number.isNaN)).toBe(true);
    // with max_time_diff 2 the 3.5 s span (limit 4 s) is accepted: (d − b) / 3.5
    const v = boxVelocity(src, 'c', 2);
    [8 / 3.5, 0.5 / 3.5, 0.2 / 3.5].forEach((x, i) => expect(v[i]).toBeCloseTo(x, 12));
    // d: one-sided over 3 s > 1.5 s → NaN
    expect(boxVelocity(src, 'd').every(Number.isNaN)).toBe(true);
  });

  it('is NaN for an annotation without neighbours', () => {
    expect(boxVelocity(src, 'lone').every(Number.isNaN)).toBe(true);
  });
});
