import { BevzipError, MODALITIES, selectParams, STAGES, validateGraph, type Graph } from '@bevzip/ir';
import { buildBevFusion, MODEL_INPUTS } from './build';
import {
  BEV_FUSION_CONFIGS,
  MICRO_CONFIG,
  TINY_CONFIG,
  type BevFusionConfig,
  type ModelModality,
} from './config';
import { STAGE_SELECTORS } from './selectors';

const MODALITY_LIST: ModelModality[] = ['fusion', 'camera', 'lidar'];
const variants = Object.values(BEV_FUSION_CONFIGS).flatMap((config) =>
  MODALITY_LIST.map((modality) => ({ config, modality })),
);

const TOP_SCOPES = [
  'encoders.camera.backbone',
  'encoders.camera.neck',
  'encoders.camera.vtransform',
  'encoders.lidar.backbone',
  'fuser',
  'decoder.backbone',
  'decoder.neck',
  'heads.object',
  'heads.map',
];

const shapeOf = (graph: Graph, value: string) =>
  graph.values[value]?.shape ?? graph.inputs.find((i) => i.name === value)?.shape;

describe('buildBevFusion', () => {
  it.each(variants.map((v) => [v.config.name, v.modality, v] as const))(
    'builds a valid %s %s graph with the interface shapes',
    (_n, _m, { config, modality }) => {
      const graph = buildBevFusion(config, modality);
      expect(() => validateGraph(graph)).not.toThrow();
      const [rows, cols] = config.grid.size;
      expect(graph.outputs).toEqual(['heatmap', 'reg', 'map']);
      expect(shapeOf(graph, 'heatmap')).toEqual([-1, rows / 2, cols / 2, config.head.classes.length]);
      expect(shapeOf(graph, 'reg')).toEqual([-1, rows / 2, cols / 2, 10]);
      expect(shapeOf(graph, 'map')).toEqual([-1, rows, cols, config.map.classes.length]);
      const inputs = Object.fromEntries(graph.inputs.map((i) => [i.name, `${i.dtype} [${i.shape}]`]));
      const camera = {
        [MODEL_INPUTS.images]: `float32 [-1,${config.image},3]`,
        [MODEL_INPUTS.camBevIndex]: `int32 [-1,${6 * 8 * 22 * (36 / config.camera.dbound[2])}]`,
      };
      const { maxPillars: p, maxPoints: m } = config.lidar;
      const lidar = {
        pillar_features: `float32 [-1,${p},${m},9]`,
        pillar_mask: `float32 [-1,${p},${m}]`,
        pillar_coords: `int32 [-1,${p},2]`,
      };
      expect(inputs).toEqual({
        ...(modality !== 'lidar' ? camera : {}),
        ...(modality !== 'camera' ? lidar : {}),
      });
    },
  );

  it('tags every node and param with a modality, a stage and one of the MIT scopes', () => {
    for (const { config, modality } of variants) {
      const graph = buildBevFusion(config, modality);
      for (const item of [...graph.nodes, ...graph.params]) {
        const where = `${graph.name}: ${item.name}`;
        expect([where, MODALITIES.includes(item.tags.modality!)]).toEqual([where, true]);
        expect([where, STAGES.includes(item.tags.stage!)]).toEqual([where, true]);
        expect([where, TOP_SCOPES.some((s) => item.scope === s || item.scope.startsWith(`${s}.`))]).toEqual([
          where,
          true,
        ]);
        expect(item.name.startsWith(`${item.scope}.`)).toBe(true);
      }
    }
  });

  it('keeps each branch out of the graphs that lack its sensor', () => {
    const camera = buildBevFusion(MICRO_CONFIG, 'camera');
    const lidar = buildBevFusion(MICRO_CONFIG, 'lidar');
    expect(selectParams(camera, { modality: 'lidar' })).toEqual([]);
    expect(selectParams(lidar, { modality: 'camera' })).toEqual([]);
    const fuserIn = (g: Graph) => g.params.find((p) => p.name === 'fuser.conv.weight')!.shape;
    expect(fuserIn(buildBevFusion(TINY_CONFIG, 'fusion'))).toEqual([3, 3, 64, 32]);
    expect(fuserIn(buildBevFusion(TINY_CONFIG, 'camera'))).toEqual([3, 3, 32, 32]);
    expect(fuserIn(buildBevFusion(TINY_CONFIG, 'lidar'))).toEqual([3, 3, 32, 32]);
  });

  it('gives each named stage selector its own non-empty set of params in the fusion model', () => {
    const graph = buildBevFusion(TINY_CONFIG, 'fusion');
    const owner = new Map<string, string>();
    const disjoint = [
      'cameraBackbone',
      'imageNeck',
      'viewTransform',
      'lidarBackbone',
      'fuser',
      'decoderBackbone',
      'decoderNeck',
      'objectHead',
      'mapHead',
    ] as const;
    for (const key of disjoint) {
      const names = selectParams(graph, STAGE_SELECTORS[key]);
      expect([key, names.length > 0]).toEqual([key, true]);
      for (const n of names) {
        expect([n, owner.get(n)]).toEqual([n, undefined]);
        owner.set(n, key);
      }
    }
    expect(owner.size).toBe(graph.params.length);
    expect(selectParams(graph, STAGE_SELECTORS.bevEncoder).length).toBe(
      selectParams(graph, STAGE_SELECTORS.decoderBackbone).length +
        selectParams(graph, STAGE_SELECTORS.decoderNeck).length,
    );
    expect(selectParams(graph, { modality: 'camera', stage: 'backbone' })).toEqual(
      selectParams(graph, STAGE_SELECTORS.cameraBackbone),
    );
  });

  it('uses MIT-style param names and initialises the heat-map bias to the configured prior', () => {
    const graph = buildBevFusion(TINY_CONFIG, 'fusion');
    const byName = new Map(graph.params.map((p) => [p.name, p]));
    expect(byName.get('encoders.camera.backbone.c1.conv.weight')!.shape).toEqual([3, 3, 3, 16]);
    expect(byName.get('encoders.camera.vtransform.depthnet.conv.weight')!.shape).toEqual([1, 1, 32, 24 + 32]);
    expect(byName.get('encoders.lidar.backbone.pfn.linear.weight')!.shape).toEqual([9, 32]);
    expect(byName.get('decoder.backbone.blocks.1.0.conv.weight')!.shape).toEqual([3, 3, 48, 96]);
    expect(byName.get('heads.object.heatmap.conv.bias')!.init).toEqual({ kind: 'constant', value: -2.19 });
    const running = byName.get('fuser.bn.running_var')!;
    expect([running.role, running.trainable]).toEqual(['state', false]);
    const bn = graph.nodes.find((n) => n.name === 'fuser.bn')!;
    expect(bn.attrs).toEqual({ momentum: 0.1, eps: 1e-5 });
  });

  it('records what the graph is in its meta', () => {
    const graph = buildBevFusion(MICRO_CONFIG, 'camera');
    expect(graph.meta).toMatchObject({
      builder: 'buildBevFusion',
      configName: 'micro',
      modality: 'camera',
      classes: ['car', 'truck', 'pedestrian', 'bicycle', 'traffic_cone', 'barrier'],
      mapClasses: ['drivable_area', 'divider'],
      grid: { xmin: -25.6, ymin: -25.6, cell: 1.6, size: [32, 32] },
      cameras: 6,
    });
    expect(buildBevFusion(graph.meta!.config as BevFusionConfig, 'camera')).toEqual(graph);
    expect(JSON.parse(JSON.stringify(graph))).toEqual(graph);
  });

  it('rejects an unknown modality and a config that does not tile, with a coded error', () => {
    const attempt = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as BevzipError;
      }
      throw new Error('expected a throw');
    };
    const badModality = attempt(() => buildBevFusion(MICRO_CONFIG, 'radar' as ModelModality));
    expect([badModality.code, badModality.message]).toEqual([
      'E_CONFIG',
      expect.stringMatching(/modality.*'radar'/),
    ]);
    const badGrid = attempt(() =>
      buildBevFusion({ ...MICRO_CONFIG, grid: { ...MICRO_CONFIG.grid, size: [30, 32] } }, 'lidar'),
    );
    expect([badGrid.code, badGrid.message]).toEqual([
      'E_CONFIG',
      expect.stringMatching(/'micro': grid\.size .*30×32/),
    ]);
    const badDepth = attempt(() =>
      buildBevFusion({ ...MICRO_CONFIG, camera: { ...MICRO_CONFIG.camera, dbound: [1, 37, 5] } }, 'camera'),
    );
    expect([badDepth.code, badDepth.message]).toEqual(['E_CONFIG', expect.stringMatching(/camera\.dbound/)]);
  });
});
