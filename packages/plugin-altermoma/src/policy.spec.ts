import * as tf from '@tensorflow/tfjs';
import { Pipeline, type PipelineConfig } from '@bevzip/ir';
import { syntheticData } from '@bevzip/plugin-tester';
import { pruningOptionsSchema } from './options';
import { magnitudePrune } from './plugin';
import { forcedUnits, roundKeptChannels } from './policy';
import { channelGraph } from './testing-fixtures/two-branch';

const policy = (o: object) => pruningOptionsSchema.parse({ sparsity: 0.8, ...o });

describe('layer policy (minDensity, keepDense)', () => {
  const scores = new Map([
    ['a.w', Float32Array.from([0.1, 0.9, 0.5, 0.3])],
    ['b.w', Float32Array.from([5, 1, 4, 2, 3, 0, 9, 8, 7, 6])],
  ]);

  it('forces nothing when no policy is set', () => {
    expect(forcedUnits(scores, policy({}))).toBeUndefined();
  });

  it('keeps the top ⌈minDensity·n⌉ units of every layer', () => {
    const forced = forcedUnits(scores, policy({ minDensity: 0.15 }))!;
    // a: ⌈0.6⌉ = 1 unit, its best (index 1); b: ⌈1.5⌉ = 2 units, its best (indices 6 and 7).
    expect(Array.from(forced.get('a.w')!)).toEqual([0, 1, 0, 0]);
    expect(Array.from(forced.get('b.w')!)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 0, 0]);
  });

  it('keeps every unit of a param named by a keepDense prefix', () => {
    const forced = forcedUnits(scores, policy({ keepDense: ['b.'] }))!;
    expect(Array.from(forced.get('a.w')!)).toEqual([0, 0, 0, 0]);
    expect(Array.from(forced.get('b.w')!).every((k) => k === 1)).toBe(true);
  });

  const graph = channelGraph();
  const config = (): PipelineConfig => ({
    seed: 3,
    graph,
    stages: [
      {
        name: 'prune',
        steps: 1,
        data: syntheticData(graph),
        taskLoss: (out) => tf.mean(tf.square(Object.values(out)[0])) as tf.Scalar,
        optimizer: { kind: 'adam', lr: 1e-3 },
      },
    ],
  });

  const keptPerLayer = async (minDensity: number) => {
    const result = await new Pipeline(config()).use(magnitudePrune({ sparsity: 0.9, minDensity })).run();
    const kept = [...result.masks.params].map(([name, m]) => ({ name, kept: m.sum().dataSync()[0], size: m.size }));
    result.params.dispose();
    result.masks.params.forEach((m) => m.dispose());
    result.masks.features.forEach((m) => m.dispose());
    return kept;
  };

  it('lifts every pruned layer to its minimum share, keeping the global count', async () => {
    const short = (l: { kept: number; size: number }) => l.kept < Math.ceil(0.08 * l.size);
    const free = await keptPerLayer(0);
    const held = await keptPerLayer(0.08);
    // Without the policy, global magnitude pruning leaves some layer below 8%; with it, none.
    expect(free.filter(short).length).toBeGreaterThan(0);
    expect(held.filter(short)).toEqual([]);
    const total = (ls: { kept: number }[]) => ls.reduce((n, l) => n + l.kept, 0);
    expect(total(held)).toBe(total(free));
  });

  it('refuses, before any step, a minDensity that leaves the threshold nothing to choose', async () => {
    const pipeline = new Pipeline(config()).use(magnitudePrune({ sparsity: 0.8, minDensity: 0.2 }));
    const steps: number[] = [];
    pipeline.events.subscribe((e) => e.type === 'step' && steps.push(e.step));
    await expect(pipeline.run()).rejects.toThrow(/magnitude: options\.minDensity is 0\.2, expected below 1 − sparsity = 0\.2/);
    expect(steps).toEqual([]);
  });
});

describe('channel multiple (structured)', () => {
  const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => i);
  const kept = (k: Uint8Array) => k.reduce((n, v) => n + v, 0);
  const keepFirst = (n: number, count: number, order: number[]) => {
    const k = new Uint8Array(n);
    for (const i of order.slice(0, count)) k[i] = 1;
    return k;
  };

  it('rounds each layer to the nearest multiple, keeping its best channels', () => {
    // 48 channels scored 0…47; 27 kept rounds to 32 (the 32 best), 20 to 16, 3 to one multiple.
    const scores = new Map([['a', ramp(48)], ['b', ramp(48)], ['c', ramp(48)]]);
    const best = Array.from({ length: 48 }, (_, i) => 47 - i);
    const keep = new Map([['a', keepFirst(48, 27, best)], ['b', keepFirst(48, 20, best)], ['c', keepFirst(48, 3, best)]]);
    const rounded = roundKeptChannels(keep, scores, 16);
    expect([...rounded.values()].map(kept)).toEqual([32, 16, 16]);
    expect(Array.from(rounded.get('a')!.slice(16))).toEqual(new Array(32).fill(1));
    expect(Array.from(rounded.get('b')!.slice(32))).toEqual(new Array(16).fill(1));
  });

  it('keeps forced channels when it drops some, and leaves small layers, empty layers and multiple 1 alone', () => {
    const scores = new Map([['a', ramp(32)], ['small', ramp(12)], ['none', ramp(32)]]);
    const keep = new Map([['a', keepFirst(32, 20, [0, ...Array.from({ length: 31 }, (_, i) => 31 - i)])], ['small', keepFirst(12, 5, [0, 1, 2, 3, 4])], ['none', new Uint8Array(32)]]);
    const forced = new Map([['a', keepFirst(32, 1, [0])]]);
    const rounded = roundKeptChannels(keep, scores, 16, forced);
    expect(kept(rounded.get('a')!)).toBe(16);
    expect(rounded.get('a')![0]).toBe(1);
    expect(rounded.get('small')).toBe(keep.get('small'));
    expect(kept(rounded.get('none')!)).toBe(0);
    expect(roundKeptChannels(keep, scores, 1)).toBe(keep);
  });
});
