import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES, GraphBuilder, ParamStore, run, type Graph } from '@bevzip/ir';
import { z } from 'zod';
import { deformableAttention, type ConstantParam, type DeformAttnSpec } from './deform-attn';
import { setConstants } from './mgfm';

/** Options of the mask generation network (one per distilled level). */
export const maskNetOptions = z.strictObject({
  /** Transformer blocks (self-attention → cross-attention to the teacher map → FFN); the paper uses 3. */
  blocks: z.number().int().min(1).max(6).default(3),
  /** Masks per task (MasKD's mask tokens). */
  perTask: z.number().int().min(1).max(8).default(2),
  heads: z.number().int().min(1).default(2),
  points: z.number().int().min(1).max(16).default(4),
  sampling: z.enum(['learned', 'window']).default('learned'),
  radius: z.number().positive().default(1),
  ffnRatio: z.number().int().min(1).max(8).default(2),
});
export type MaskNetOptions = z.output<typeof maskNetOptions>;

/** Shapes a generator is built for. */
export interface MaskNetShape {
  /** Query grid (the BEV queries' H × W) and width C. */
  queryGrid: readonly [number, number];
  width: number;
  /** Teacher feature map the blocks attend to (H × W × C_map); masks come out at its H × W. */
  map: readonly [number, number, number];
  /** Number of tasks (masks are `tasks · perTask` channels, task-major). */
  tasks: number;
}


/**
 * The mask generation network as a graph: G ← queries; per block G ← LN(G + DSA(G)),
 * G ← LN(G + DCA(G, F_T)), G ← LN(G + FFN(G)); masks M = σ(G·w + b) [B, H, W, tasks·perTask],
 * average-pooled to the map's size when the map is coarser than the queries; and the per-task
 * mask weights π = softmax over each task's masks [tasks, perTask].
 */
export function maskNetGraph(shape: MaskNetShape, o: MaskNetOptions): { graph: Graph; constants: ConstantParam[] } {
  const [qh, qw] = shape.queryGrid;
  const [mh, mw, mc] = shape.map;
  const c = shape.width;
  if (qh % mh !== 0 || qw % mw !== 0 || qh / mh !== qw / mw) {
    throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `vexkd mask generator: the teacher map ${mh}×${mw} must divide the ${qh}×${qw} BEV queries by one integer factor`);
  }
  if (c % o.heads !== 0) throw new BevzipError(ERROR_CODES.PLUGIN_OPTIONS, `option 'masks.heads': expected a divisor of the query width ${c}, got ${o.heads}`);
  const spec: DeformAttnSpec = { heads: o.heads, points: o.points, sampling: o.sampling, radius: o.radius };
  const constants: ConstantParam[] = [];
  const b = new GraphBuilder('vexkd-mask-generator');
  let g = b.input('queries', [-1, qh * qw, c]);
  const map = b.input('map', [-1, mh, mw, mc]);
  const n = shape.tasks * o.perTask;
  b.scoped('vexkd.masks', { trainOnly: true }, () => {
    const ln = (x: string, name: string) => b.op('layernorm', [x, b.param(`${name}.gamma`, [c], { init: { kind: 'ones' }, role: 'norm' }), b.param(`${name}.beta`, [c], { role: 'norm' })], {}, { name });
    for (let k = 0; k < o.blocks; k++) {
      g = b.scoped(`blocks.${k}`, {}, () => {
        const asMap = b.op('reshape', [g], { shape: [0, qh, qw, c] }, { name: 'query_map' });
        let x = ln(b.op('add', [g, deformableAttention(b, 'sa', g, asMap, [qh, qw], spec, constants)], {}, { name: 'sa_res' }), 'ln_sa');
        x = ln(b.op('add', [x, deformableAttention(b, 'ca', x, map, [qh, qw], spec, constants)], {}, { name: 'ca_res' }), 'ln_ca');
        const hidden = b.op('gelu', [b.op('dense', [x, b.param('ffn.0.weight', [c, c * o.ffnRatio], { init: { kind: 'glorotUniform' } }), b.param('ffn.0.bias', [c * o.ffnRatio], { role: 'bias' })], {}, { name: 'ffn0' })], {}, { name: 'ffn_act' });
        const ffn = b.op('dense', [hidden, b.param('ffn.1.weight', [c * o.ffnRatio, c], { init: { kind: 'glorotUniform' } }), b.param('ffn.1.bias', [c], { role: 'bias' })], {}, { name: 'ffn1' });
        return ln(b.op('add', [x, ffn], {}, { name: 'ffn_res' }), 'ln_ffn');
      });
    }
    const logits = b.op('dense', [g, b.param('head.weight', [c, n], { init: { kind: 'glorotUniform' } }), b.param('head.bias', [n], { role: 'bias' })], {}, { name: 'head' });
    let masks = b.op('reshape', [b.op('sigmoid', [logits], {}, { name: 'sigmoid' })], { shape: [0, qh, qw, n] }, { name: 'mask_map' });
    const f = qh / mh;
    if (f > 1) masks = b.op('avg_pool2d', [masks], { kernel: f, strides: f }, { name: 'pool' });
    const weights = b.op('softmax', [b.param('pi', [shape.tasks, o.perTask], { init: { kind: 'zeros' }, role: 'weight' })], { axis: -1 }, { name: 'pi_softmax' });
    b.output(masks, weights);
  });
  const graph = b.build();
  return { graph, constants };
}

/** What {@link MaskGenerator.forward} returns: masks [B, H, W, tasks·perTask] in [0, 1] and π [tasks, perTask]. */
export interface MasksOut {
  masks: tf.Tensor4D;
  weights: tf.Tensor2D;
}

/**
 * A mask generation network with its own weights (plugin-owned, train-only: never part of the
 * student graph). `forward` is differentiable in the weights, for the mask-training stage.
 */
export class MaskGenerator {
  readonly graph: Graph;
  readonly params: ParamStore;

  constructor(
    readonly shape: MaskNetShape,
    readonly options: MaskNetOptions,
    seed: number,
  ) {
    const built = maskNetGraph(shape, options);
    this.graph = built.graph;
    this.params = ParamStore.init(this.graph, seed);
    setConstants(this.params, built.constants, this.graph);
  }

  /** `queries` [B, N, C] (the fusion module's BEV queries), `map` [B, H, W, C_map] (a teacher feature). */
  forward(queries: tf.Tensor, map: tf.Tensor): MasksOut {
    const [masks, weights] = this.graph.outputs;
    const out = run(this.graph, this.params, { queries, map }).outputs;
    return { masks: out[masks] as tf.Tensor4D, weights: out[weights] as tf.Tensor2D };
  }

  trainableVariables(): tf.Variable[] {
    return this.params.trainableVariables();
  }

  dispose(): void {
    this.params.dispose();
  }
}
