import { BevzipError, ERROR_CODES, GraphBuilder, validateGraph, type Graph } from '@bevzip/ir';
import { bevDecoder, fuser } from './bev-decoder';
import { cameraEncoder } from './camera-encoder';
import { modelGeometry, type BevFusionConfig, type ModelModality } from './config';
import { REG_CHANNELS } from '../task/config';
import { mapHead, objectHead } from './heads';
import { lidarEncoder } from './lidar-encoder';

/** Graph input names of every BEVFusion graph. */
export const MODEL_INPUTS = {
  images: 'images',
  camBevIndex: 'cam_bev_index',
  pillarFeatures: 'pillar_features',
  pillarMask: 'pillar_mask',
  pillarCoords: 'pillar_coords',
} as const;

/** Graph output names: heat-map logits, box regression, map logits. */
export const MODEL_OUTPUTS = { heatmap: 'heatmap', reg: 'reg', map: 'map' } as const;

/** What `graph.meta` holds for a BEVFusion graph, so a checkpoint knows what it is. */
export interface BevFusionMeta {
  builder: 'buildBevFusion';
  configName: string;
  modality: ModelModality;
  classes: string[];
  mapClasses: string[];
  regChannels: string[];
  grid: BevFusionConfig['grid'];
  /** Cameras per sample: the leading dim of `images` is batch · cameras. */
  cameras: number;
  /** The whole config, to rebuild the graph. */
  config: BevFusionConfig;
}

/** Gives node outputs graph-level names (the head outputs), keeping node names and scopes. */
function renameValues(graph: Graph, names: Record<string, string>): Graph {
  const to = (v: string) => names[v] ?? v;
  for (const node of graph.nodes) {
    node.inputs = node.inputs.map(to);
    node.outputs = node.outputs.map(to);
  }
  graph.values = Object.fromEntries(Object.entries(graph.values).map(([k, v]) => [to(k), v]));
  graph.outputs = graph.outputs.map(to);
  validateGraph(graph);
  return graph;
}

/**
 * Builds a BEVFusion-style graph (MIT scopes: `encoders.camera.{backbone,neck,vtransform}`,
 * `encoders.lidar.backbone`, `fuser`, `decoder.{backbone,neck}`, `heads.{object,map}`).
 *
 * Inputs: `images` [B·N_cam, H, W, 3] RGB/255; `cam_bev_index` int32 [B, N_cam·fH·fW·D] (BEV cell
 * row·W + col per frustum point, ordered camera, row, column, depth bin; −1 = outside);
 * `pillar_features` [B, P, M, 9]; `pillar_mask` [B, P, M]; `pillar_coords` int32 [B, P, 2]. A
 * camera-only graph has only the first two, a LiDAR-only graph only the last three.
 * Outputs: `heatmap` [B, X/2, Y/2, K], `reg` [B, X/2, Y/2, 10] (`REG_CHANNELS` of the task), `map` [B, X, Y, K_map].
 *
 * @example
 * const graph = buildBevFusion(TINY_CONFIG, 'fusion');
 * const params = ParamStore.init(graph, 0);
 */
export function buildBevFusion(config: BevFusionConfig, modality: ModelModality): Graph {
  if (!['fusion', 'camera', 'lidar'].includes(modality)) {
    throw new BevzipError(
      ERROR_CODES.CONFIG,
      `buildBevFusion: modality must be 'fusion', 'camera' or 'lidar', got '${modality}'`,
    );
  }
  const g = modelGeometry(config);
  const [h, w] = config.image;
  const { maxPillars: p, maxPoints: m, pointFeatures } = config.lidar;
  const meta: BevFusionMeta = {
    builder: 'buildBevFusion',
    configName: config.name,
    modality,
    classes: [...config.head.classes],
    mapClasses: [...config.map.classes],
    regChannels: [...REG_CHANNELS],
    grid: config.grid,
    cameras: config.cameras,
    config: structuredClone(config),
  };
  const b = new GraphBuilder(
    `bevfusion-${config.name}-${modality}`,
    meta as unknown as Record<string, unknown>,
  );
  const branches: string[] = [];
  if (modality !== 'lidar') {
    const images = b.input(MODEL_INPUTS.images, [-1, h, w, 3]);
    const index = b.input(MODEL_INPUTS.camBevIndex, [-1, g.frustumPoints], 'int32');
    branches.push(cameraEncoder(b, config, images, index));
  }
  if (modality !== 'camera') {
    const features = b.input(MODEL_INPUTS.pillarFeatures, [-1, p, m, pointFeatures]);
    const mask = b.input(MODEL_INPUTS.pillarMask, [-1, p, m]);
    const coords = b.input(MODEL_INPUTS.pillarCoords, [-1, p, 2], 'int32');
    branches.push(lidarEncoder(b, config, { features, mask, coords }));
  }
  const bev = bevDecoder(b, config, fuser(b, config, branches));
  const { heatmap, reg } = objectHead(b, config, bev);
  const map = mapHead(b, config, bev);
  b.output(heatmap, reg, map);
  return renameValues(b.build(), {
    [heatmap]: MODEL_OUTPUTS.heatmap,
    [reg]: MODEL_OUTPUTS.reg,
    [map]: MODEL_OUTPUTS.map,
  });
}
