import * as tf from '@tensorflow/tfjs';
import {
  BevzipError,
  channelRuleOf,
  ERROR_CODES,
  removeChannels,
  type ChannelPlan,
  type Graph,
  type Masks,
  type NodeDef,
  type ParamDef,
  type ParamStore,
} from '@bevzip/ir';
import { unitMaskShape } from './units';

/** A weight whose output channels can be removed, and the per-channel params that follow them. */
export interface ChannelLayer {
  weight: string;
  channels: number;
  /** The producer's bias and the affine params of batch norms it feeds (through activations). */
  followers: string[];
}

function producerOf(graph: Graph, weight: string): NodeDef | undefined {
  return graph.nodes.find((n) => {
    const rule = channelRuleOf(n);
    return rule.kind === 'produce' && n.inputs[rule.weightInput] === weight;
  });
}

function followersOf(graph: Graph, node: NodeDef): string[] {
  const rule = channelRuleOf(node);
  const params = new Map(graph.params.map((p) => [p.name, p]));
  const out: string[] = [];
  const bias = rule.kind === 'produce' && rule.biasInput !== undefined ? node.inputs[rule.biasInput] : '';
  if (bias && params.get(bias)?.trainable) out.push(bias);
  const queue = [...node.outputs];
  while (queue.length > 0) {
    const value = queue.shift()!;
    for (const next of graph.nodes.filter((n) => n.inputs[0] === value)) {
      const r = channelRuleOf(next);
      if (r.kind !== 'through') continue;
      for (const i of r.perChannelInputs ?? []) {
        const p = params.get(next.inputs[i]);
        if (p && p.trainable && p.role !== 'state') out.push(p.name);
      }
      queue.push(...next.outputs);
    }
  }
  return out;
}

/**
 * The candidate weights whose output channels the channel-removal pass can really remove: kernels
 * of nodes whose op declares a `produce` channel rule (conv2d with groups 1, dense) and whose
 * channels reach neither a graph output nor an opaque op. Returns them and the candidates left out.
 */
export function channelLayers(
  graph: Graph,
  params: ParamStore,
  candidates: readonly ParamDef[],
): { layers: ChannelLayer[]; skipped: string[] } {
  const produced = candidates.filter((p) => p.role === 'weight' && producerOf(graph, p.name));
  const probe = new Map(produced.map((p) => [p.name, [0]]));
  const dry = removeChannels(graph, params, probe);
  dry.params.dispose();
  const pinned = new Set(dry.plan.pinned);
  const layers = produced
    .filter((p) => !pinned.has(p.name))
    .map((p) => ({
      weight: p.name,
      channels: p.shape[p.shape.length - 1],
      followers: followersOf(graph, producerOf(graph, p.name)!),
    }));
  const kept = new Set(layers.map((l) => l.weight));
  return { layers, skipped: candidates.filter((p) => !kept.has(p.name)).map((p) => p.name) };
}

/**
 * Param masks from kept channels: the weight's mask is `[1, …, 1, out]`, its followers' `[out]`, so a
 * removed channel's output is exactly zero and removing it later changes nothing.
 */
export function channelMasks(
  graph: Graph,
  layers: readonly ChannelLayer[],
  keep: ReadonlyMap<string, Uint8Array>,
): Map<string, tf.Tensor> {
  const masks = new Map<string, tf.Tensor>();
  for (const layer of layers) {
    const k = keep.get(layer.weight);
    if (!k) continue;
    const shape = graph.params.find((p) => p.name === layer.weight)!.shape;
    const values = Float32Array.from(k);
    masks.set(layer.weight, tf.tensor(values, unitMaskShape(shape, true)));
    for (const f of layer.followers) if (!masks.has(f)) masks.set(f, tf.tensor(values, [layer.channels]));
  }
  return masks;
}

/**
 * Removes for real the output channels a structured mask zeroed: every conv2d/dense weight whose
 * mask has the channel layout `[1, …, 1, out]` keeps the channels where the mask is non-zero, and the
 * IR channel-removal pass rewrites the graph (consumers' input channels, batch norms, biases). The
 * result is a new graph and a new weight store; the inputs are left as they are.
 * @throws BevzipError (E_CONFIG) when a mask removes every channel of a layer.
 */
export function removePrunedChannels(
  graph: Graph,
  params: ParamStore,
  masks: Pick<Masks, 'params'>,
): { graph: Graph; params: ParamStore; plan: ChannelPlan } {
  const keep = new Map<string, number[]>();
  for (const [name, mask] of masks.params) {
    const p = graph.params.find((q) => q.name === name);
    if (!p || p.role !== 'weight' || !producerOf(graph, name)) continue;
    const channelLayout =
      mask.rank === p.shape.length &&
      mask.shape.slice(0, -1).every((d) => d === 1) &&
      mask.shape[mask.rank - 1] === p.shape[p.shape.length - 1];
    if (!channelLayout) continue;
    const kept = [...mask.dataSync()].flatMap((v, i) => (v !== 0 ? [i] : []));
    if (kept.length === 0)
      throw new BevzipError(
        ERROR_CODES.CONFIG,
        `removePrunedChannels: the mask of '${name}' removes all ${p.shape[p.shape.length - 1]} channels`,
      );
    keep.set(name, kept);
  }
  return removeChannels(graph, params, keep);
}
