import { ParamStore } from '@bevzip/ir';
import { buildBevFusion } from './build';
import { MICRO_CONFIG, SMALL_CONFIG, TINY_CONFIG } from './config';
import { describeModel, formatModelDescription } from './describe';

/** 3×3 (or k×k) conv weight count. */
const conv = (cin: number, cout: number, k = 3) => k * k * cin * cout;
/** BN γ and β. */
const bn = (c: number) => 2 * c;

// Per-stage trainable params of tiny (K = 6, two map classes), counted by hand from the spec's layer list.
const TINY_PARAMS: Record<string, number> = {
  'image backbone':
    conv(3, 16) +
    conv(16, 16) +
    conv(16, 32) +
    conv(32, 32) +
    conv(32, 64) +
    conv(64, 64) +
    bn(16 + 16 + 32 + 32 + 64 + 64),
  'image neck': conv(96, 32, 1) + bn(32) + conv(32, 32) + bn(32),
  'view transform': conv(32, 56, 1) + 56,
  'LiDAR backbone': 9 * 32 + bn(32),
  fuser: conv(64, 32) + bn(32),
  'decoder backbone': conv(32, 48) + conv(48, 48) + conv(48, 96) + conv(96, 96) + bn(48 + 48 + 96 + 96),
  'decoder neck': conv(48, 32, 1) + conv(96, 32, 1) + bn(64),
  'object head': conv(64, 32) + bn(32) + conv(32, 6) + 6 + conv(32, 10) + 10,
  'map head': conv(64, 32) + bn(32) + conv(32, 2, 1) + 2,
};

// Per-sample MACs: output pixels × weights per output channel; 6 cameras; lift and pool one op per element.
const TINY_MACS: Record<string, number> = {
  'image backbone':
    6 *
    (16 * 44 * (conv(3, 16) + conv(16, 16)) +
      8 * 22 * (conv(16, 32) + conv(32, 32)) +
      4 * 11 * (conv(32, 64) + conv(64, 64))),
  'image neck': 6 * 8 * 22 * (conv(96, 32, 1) + conv(32, 32)),
  'view transform': 6 * 8 * 22 * conv(32, 56, 1) + 2 * (6 * 8 * 22 * 24) * 32,
  'LiDAR backbone': 3072 * 12 * 9 * 32,
  fuser: 64 * 64 * conv(64, 32),
  'decoder backbone': 32 * 32 * (conv(32, 48) + conv(48, 48)) + 16 * 16 * (conv(48, 96) + conv(96, 96)),
  'decoder neck': 32 * 32 * (conv(48, 32, 1) + conv(96, 32, 1)),
  'object head': 32 * 32 * (conv(64, 32) + conv(32, 6) + conv(32, 10)),
  'map head': 32 * 32 * conv(64, 32) + 64 * 64 * conv(32, 2, 1),
};

// The spec's cost table (docs/bevfusion.md §3, K = 6): MMACs and params per stage.
const SPEC_TABLE: Record<string, [number, number]> = {
  'image backbone': [40.8, 72304],
  'image neck': [13.0, 12416],
  'view transform': [3.5, 1848],
  'LiDAR backbone': [10.6, 352],
  fuser: [75.5, 18496],
  'decoder backbone': [67.2, 159552],
  'decoder neck': [4.7, 4736],
  'object head': [23.6, 23120],
  'map head': [19.1, 18562],
};

describe('describeModel', () => {
  const tiny = describeModel(buildBevFusion(TINY_CONFIG, 'fusion'));
  const row = (d: typeof tiny, name: string) => d.stages.find((s) => s.name === name)!;

  it('counts the hand-computed params and MACs of every tiny stage', () => {
    expect(Object.fromEntries(tiny.stages.map((s) => [s.name, s.params]))).toEqual(TINY_PARAMS);
    expect(Object.fromEntries(tiny.stages.map((s) => [s.name, s.macs]))).toEqual(TINY_MACS);
    expect(tiny.other).toEqual({ name: 'other', params: 0, state: 0, macs: 0 });
  });

  it('agrees with the spec cost table: ≈311k params and ≈258 MMACs per sample', () => {
    for (const [name, [mmacs, params]] of Object.entries(SPEC_TABLE)) {
      expect([name, row(tiny, name).params]).toEqual([name, params]);
      expect([name, Math.abs(row(tiny, name).macs / 1e6 - mmacs) <= 0.05]).toEqual([name, true]);
    }
    expect(tiny.total.params).toBe(311386);
    expect(Math.abs(tiny.total.macs / 1e6 - 258)).toBeLessThan(0.5);
  });

  it('matches the scalars a ParamStore allocates, running statistics counted as state', () => {
    for (const config of [MICRO_CONFIG, TINY_CONFIG, SMALL_CONFIG]) {
      const graph = buildBevFusion(config, 'fusion');
      const d = describeModel(graph);
      const store = ParamStore.init(graph, 0);
      const stateNames = new Set(graph.params.filter((p) => p.role === 'state').map((p) => p.name));
      expect(d.total.params).toBe(store.count((n) => !stateNames.has(n)));
      expect(d.total.state).toBe(store.count((n) => stateNames.has(n)));
      store.dispose();
    }
    // Running mean and variance per BN channel: half of the BN params are state.
    expect(row(tiny, 'fuser').state).toBe(2 * 32);
  });

  it('leaves the missing branch at zero and sizes the fuser for one input in single-modality graphs', () => {
    const camera = describeModel(buildBevFusion(TINY_CONFIG, 'camera'));
    expect(row(camera, 'LiDAR backbone')).toEqual({ name: 'LiDAR backbone', params: 0, state: 0, macs: 0 });
    expect(row(camera, 'fuser').params).toBe(conv(32, 32) + bn(32));
    expect(row(camera, 'fuser').macs).toBe(64 * 64 * conv(32, 32));
    expect(row(camera, 'image backbone')).toEqual(row(tiny, 'image backbone'));
    const lidar = describeModel(buildBevFusion(TINY_CONFIG, 'lidar'));
    expect(row(lidar, 'image backbone').macs + row(lidar, 'view transform').params).toBe(0);
  });

  it("costs a sixteenth of tiny's BEV-side MACs in micro (half the channels, a quarter of the cells)", () => {
    const micro = describeModel(buildBevFusion(MICRO_CONFIG, 'fusion'));
    expect(row(micro, 'fuser').macs).toBe(row(tiny, 'fuser').macs / 16);
    expect(row(micro, 'decoder backbone').macs).toBe(row(tiny, 'decoder backbone').macs / 16);
  });

  it('formats a table with a total line', () => {
    const text = formatModelDescription(tiny);
    expect(text.split('\n')).toHaveLength(1 + 9 + 1);
    expect(text).toMatch(/total\s+311386\s+258\.0$/);
  });
});
