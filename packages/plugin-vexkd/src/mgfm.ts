import * as tf from '@tensorflow/tfjs';
import { BevzipError, definePlugin, ERROR_CODES, GraphBuilder, validateGraph, type Graph, type NodeDef, type ParamStore } from '@bevzip/ir';
import { z } from 'zod';
import { deformableAttention, type ConstantParam, type DeformAttnSpec } from './deform-attn';

/** Scope of the fusion module inside the teacher graph. */
export const MGFM_SCOPE = 'fuser.mgfm';
/** Value names the fusion module gives the graph: the BEV queries Q_L [B, N, C] and the fused BEV [B, H, W, C]. */
export const MGFM_VALUES = { queries: `${MGFM_SCOPE}.queries`, fused: `${MGFM_SCOPE}.fused` } as const;

/** Options of the Modality-General Fusion Module. */
export const mgfmOptions = z.strictObject({
  /** Cross-attention → self-attention → FFN layers. */
  layers: z.number().int().min(1).max(6).default(1),
  /** Attention heads per deformable attention; must divide the fuser width. */
  heads: z.number().int().min(1).default(2),
  /** Sampling points per head. */
  points: z.number().int().min(1).max(16).default(4),
  /** `learned` offsets (deformable attention) or a fixed `window` of points around each query's cell. */
  sampling: z.enum(['learned', 'window']).default('learned'),
  /** Spacing in BEV cells of the initial (learned) or fixed (window) sampling pattern. */
  radius: z.number().positive().default(1),
  /** FFN hidden width as a multiple of the fuser width. */
  ffnRatio: z.number().int().min(1).max(8).default(2),
});
export type MgfmOptions = z.input<typeof mgfmOptions>;
type Mgfm = z.output<typeof mgfmOptions>;

const inFuser = (n: NodeDef) => n.scope === 'fuser' || n.scope.startsWith('fuser.');

/** The fuser's two BEV inputs (camera, LiDAR) and its one output, found by tags and scope. */
function fuserBoundary(graph: Graph): { camera: string; lidar: string; output: string; nodes: Set<NodeDef> } {
  const nodes = new Set(graph.nodes.filter(inFuser));
  if (nodes.size === 0) throw new BevzipError(ERROR_CODES.CONFIG, `vexkd teacher: graph '${graph.name}' has no 'fuser' scope to replace`);
  const produced = new Set([...nodes].flatMap((n) => n.outputs));
  const paramNames = new Set(graph.params.map((p) => p.name));
  const producer = new Map(graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const inputs = [...new Set([...nodes].flatMap((n) => n.inputs))].filter((v) => v && !produced.has(v) && !paramNames.has(v));
  const byModality = (m: 'camera' | 'lidar') => inputs.filter((v) => producer.get(v)?.tags.modality === m);
  const [camera] = byModality('camera');
  const [lidar] = byModality('lidar');
  if (!camera || !lidar || inputs.length !== 2) {
    throw new BevzipError(
      ERROR_CODES.PLUGIN_OPTIONS,
      `vexkd teacher: the modality-general fusion module needs a fusion graph whose fuser reads one camera and one LiDAR BEV map; graph '${graph.name}' fuses [${inputs.join(', ')}] (a camera-only or LiDAR-only model cannot be the VeXKD teacher)`,
    );
  }
  const outside = graph.nodes.filter((n) => !nodes.has(n));
  const outputs = [...produced].filter((v) => outside.some((n) => n.inputs.includes(v)) || graph.outputs.includes(v));
  if (outputs.length !== 1) throw new BevzipError(ERROR_CODES.CONFIG, `vexkd teacher: the fuser of '${graph.name}' should have one output, has [${outputs.join(', ')}]`);
  return { camera, lidar, output: outputs[0], nodes };
}

/**
 * The MGFM layers on camera and LiDAR BEV maps [B, H, W, C_cam] / [B, H, W, C_lidar]:
 *
 *   Q ← Q0 (learnable, one per BEV cell)
 *   per layer: Q ← LN(Q + ½[DCA(Q, F_L) + DCA(Q, F_C)]);  Q ← LN(Q + DSA(Q));  Q ← LN(Q + FFN(Q))
 *
 * Cross-attention comes first so the learned queries pick up the sample before attending to each
 * other. Returns the query and fused value names; constants (reference points, patterns) are pushed.
 */
export function buildMgfm(b: GraphBuilder, camera: string, lidar: string, width: number, o: Mgfm, constants: ConstantParam[]): { queries: string; fused: string } {
  const [, h, w] = b.info(camera).shape;
  const lidarShape = b.info(lidar).shape;
  if (lidarShape[1] !== h || lidarShape[2] !== w) throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `vexkd teacher: camera BEV is ${h}×${w}, LiDAR BEV ${lidarShape[1]}×${lidarShape[2]}`);
  if (width % o.heads !== 0) throw new BevzipError(ERROR_CODES.PLUGIN_OPTIONS, `option 'mgfm.heads': expected a divisor of the fuser width ${width}, got ${o.heads}`);
  const n = h * w;
  const grid = [h, w] as const;
  const spec: DeformAttnSpec = { heads: o.heads, points: o.points, sampling: o.sampling, radius: o.radius };
  return b.scoped(MGFM_SCOPE, { modality: 'fusion', stage: 'encoder' }, () => {
    const ln = (x: string, name: string) =>
      b.op('layernorm', [x, b.param(`${name}.gamma`, [width], { init: { kind: 'ones' }, role: 'norm' }), b.param(`${name}.beta`, [width], { role: 'norm' })], {}, { name });
    const q0 = b.param('query_embed', [n, width], { init: { kind: 'normal', std: 0.02 }, role: 'embedding' });
    // The IR has no Expand: a zero-scaled per-sample sum gives the learned queries their batch axis.
    const batchZero = b.op('scale', [b.op('reduce_sum', [b.op('reshape', [lidar], { shape: [0, n, -1] }, { name: 'lidar_tokens' })], { axes: [-1], keepDims: true }, { name: 'lidar_sum' })], { factor: 0 }, { name: 'batch_zero' });
    let q = b.op('add', [batchZero, q0], {}, { name: 'query_init' });
    for (let l = 0; l < o.layers; l++) {
      q = b.scoped(`layers.${l}`, {}, () => {
        const caL = deformableAttention(b, 'ca_lidar', q, lidar, grid, spec, constants);
        const caC = deformableAttention(b, 'ca_camera', q, camera, grid, spec, constants);
        const ca = b.op('scale', [b.op('add', [caL, caC], {}, { name: 'ca_sum' })], { factor: 0.5 }, { name: 'ca' });
        let x = ln(b.op('add', [q, ca], {}, { name: 'ca_res' }), 'ln_ca');
        const asMap = b.op('reshape', [x], { shape: [0, h, w, width] }, { name: 'query_map' });
        x = ln(b.op('add', [x, deformableAttention(b, 'sa', x, asMap, grid, spec, constants)], {}, { name: 'sa_res' }), 'ln_sa');
        const hidden = b.op('gelu', [b.op('dense', [x, b.param('ffn.0.weight', [width, width * o.ffnRatio], { init: { kind: 'glorotUniform' } }), b.param('ffn.0.bias', [width * o.ffnRatio], { role: 'bias' })], {}, { name: 'ffn0' })], {}, { name: 'ffn_act' });
        const ffn = b.op('dense', [hidden, b.param('ffn.1.weight', [width * o.ffnRatio, width], { init: { kind: 'glorotUniform' } }), b.param('ffn.1.bias', [width], { role: 'bias' })], {}, { name: 'ffn1' });
        return ln(b.op('add', [x, ffn], {}, { name: 'ffn_res' }), 'ln_ffn');
      });
    }
    const queries = b.op('scale', [q], { factor: 1 }, { name: 'queries' });
    const fused = b.op('reshape', [queries], { shape: [0, h, w, width] }, { name: 'fused' });
    return { queries, fused };
  });
}

/**
 * A fusion graph with its fuser replaced by the MGFM (everything else, names included, unchanged;
 * the decoder reads the fused BEV instead). Returns the graph and the constant params to set.
 */
export function swapFuserForMgfm(graph: Graph, options: MgfmOptions = {}): { graph: Graph; constants: ConstantParam[] } {
  const o = mgfmOptions.parse(options);
  const { camera, lidar, output, nodes } = fuserBoundary(graph);
  const width = graph.values[output].shape[3];
  const b = new GraphBuilder(graph.name);
  b.input(camera, graph.values[camera].shape);
  b.input(lidar, graph.values[lidar].shape);
  const constants: ConstantParam[] = [];
  const { fused } = buildMgfm(b, camera, lidar, width, o, constants);
  b.output(fused);
  const part = b.build();
  const rename = (v: string) => (v === output ? fused : v);
  const spliced: NodeDef[] = [];
  for (const n of graph.nodes) {
    if (nodes.has(n)) {
      if (!spliced.includes(part.nodes[0])) spliced.push(...part.nodes);
      continue;
    }
    spliced.push({ ...n, inputs: n.inputs.map(rename) });
  }
  const kept = spliced.filter((n) => !part.nodes.includes(n));
  const used = new Set(kept.flatMap((n) => n.inputs));
  const removed = new Set([...nodes].flatMap((n) => n.outputs));
  const values = Object.fromEntries(Object.entries(graph.values).filter(([k]) => !removed.has(k)));
  const out: Graph = {
    ...graph,
    name: `${graph.name}-vexkd`,
    nodes: spliced,
    params: [...graph.params.filter((p) => used.has(p.name)), ...part.params],
    values: { ...values, ...part.values },
    outputs: graph.outputs.map(rename),
    meta: { ...(graph.meta ?? {}), vexkd: { mgfm: o } },
  };
  validateGraph(out);
  return { graph: out, constants };
}

/** Writes the constant params' values into a store. */
export function setConstants(params: ParamStore, constants: readonly ConstantParam[], graph: Graph): void {
  for (const c of constants) {
    const def = graph.params.find((p) => p.name === c.name)!;
    const t = tf.tensor(c.values, def.shape);
    params.set(c.name, t, def.trainable);
    t.dispose();
  }
}

/** Options of {@link vexkdTeacher}. */
export const teacherOptions = z.strictObject({ mgfm: mgfmOptions.default(mgfmOptions.parse({})) });
export type VexkdTeacherOptions = z.input<typeof teacherOptions>;

/**
 * Step 1 of VeXKD: turns a camera+LiDAR fusion model into the VeXKD teacher by swapping its
 * ConvFuser for the Modality-General Fusion Module in `transform`; the stage then trains it with
 * the task loss. Starting from a trained fusion model keeps its encoders, decoder and heads; only
 * the fusion module is new. A graph that already has the MGFM passes through unchanged.
 */
export const vexkdTeacher = definePlugin({
  name: 'vexkd-teacher',
  version: '0.1.0',
  apiVersion: '^1.0.0',
  description: 'VeXKD teacher: the fusion model with its fuser replaced by the modality-general fusion module (BEV queries, symmetric deformable cross-attention)',
  options: teacherOptions,
  hooks: (o) => ({
    transform: (graph, ctx) => {
      if (graph.nodes.some((n) => n.scope.startsWith(MGFM_SCOPE))) return;
      const swapped = swapFuserForMgfm(graph, o.mgfm);
      setConstants(ctx.params, swapped.constants, swapped.graph);
      return swapped.graph;
    },
  }),
});
