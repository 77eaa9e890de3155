import * as tf from '@tensorflow/tfjs';
import { expectClose, expectNoLeak, randomTensor } from '../testing';
import { clipGradNorm } from './clip';

describe('clipGradNorm', () => {
  it('computes the global L2 norm and scales every gradient by maxNorm / norm', () => {
    const grads = new Map([
      ['a', tf.tensor([3, 0])],
      ['b', tf.tensor([[0], [4]])],
    ]);
    const { grads: out, norm } = clipGradNorm(grads, 1);
    expect(norm).toBeCloseTo(5, 6);
    const c = 1 / (5 + 1e-6);
    expectClose(out.get('a')!, [3 * c, 0], 1e-7);
    expectClose(out.get('b')!, [0, 4 * c], 1e-7);
    expect(out.get('b')!.shape).toEqual([2, 1]);
    expect(Array.from(grads.get('a')!.dataSync())).toEqual([3, 0]);
    [...grads.values(), ...out.values()].forEach((t) => t.dispose());
  });

  it('matches a float64 norm on random gradients and leaves small ones unscaled', () => {
    const grads = new Map([0, 1, 2].map((i) => [`g${i}`, randomTensor([5, 7], 40 + i, 0.1)] as [string, tf.Tensor]));
    let sq = 0;
    for (const g of grads.values()) for (const v of g.dataSync()) sq += v * v;
    const { grads: out, norm } = clipGradNorm(grads, 100);
    expect(Math.abs(norm - Math.sqrt(sq)) / Math.sqrt(sq)).toBeLessThan(1e-6);
    for (const [k, g] of grads) expect(Array.from(out.get(k)!.dataSync())).toEqual(Array.from(g.dataSync()));
    [...grads.values(), ...out.values()].forEach((t) => t.dispose());
  });

  it('reports a non-finite norm without scaling, refuses a bad maxNorm and leaks nothing', () => {
    const bad = new Map([['x', tf.tensor([1, NaN])]]);
    const r = clipGradNorm(bad, 1);
    expect(Number.isNaN(r.norm)).toBe(true);
    expect(r.grads.get('x')!.dataSync()[0]).toBe(1);
    r.grads.forEach((t) => t.dispose());
    expect(() => clipGradNorm(bad, 0)).toThrow(/maxNorm must be a finite number > 0, got 0/);
    bad.forEach((t) => t.dispose());
    const g = new Map([['y', randomTensor([10], 3)]]);
    expectNoLeak(() => clipGradNorm(g, 0.5).grads.forEach((t) => t.dispose()));
    g.forEach((t) => t.dispose());
  });
});
