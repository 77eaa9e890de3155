import { Mt19937 } from './mt19937';

describe('Mt19937', () => {
  it('reproduces numpy RandomState(42): rand(3), then randint draws, then rand(2)', () => {
    // Printed by numpy: np.random.seed(42); rand(3); 20× randint(0, 3); 20× randint(0, 2); rand(2).
    const g = Mt19937.numpySeed(42);
    expect(g.rand(3)).toEqual([0.3745401188473625, 0.9507143064099162, 0.7319939418114051]);
    expect(Array.from({ length: 20 }, () => g.randint(0, 3))).toEqual([
      0, 0, 2, 1, 2, 2, 2, 2, 0, 2, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1,
    ]);
    expect(Array.from({ length: 20 }, () => g.randint(0, 2))).toEqual([
      0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 1, 0,
    ]);
    expect(g.rand(2)).toEqual([0.9832308858067882, 0.4667628932479799]);
  });

  it('reproduces Python random.seed(42)', () => {
    const g = Mt19937.pythonSeed(42);
    expect([g.random(), g.random()]).toEqual([0.6394267984578837, 0.025010755222666936]);
  });
});
