import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES } from '../errors';
import type { Graph, NodeDef } from '../graph';
import type { ParamStore } from '../params';
import { channelRuleOf } from './channel-rules';
import { reinfer } from './reinfer';

/** A run of channels of one space inside a value's channel axis. */
interface Segment {
  space: number;
  size: number;
}

/** Union-find over channel spaces: values joined by element-wise ops must keep the same channels. */
class Spaces {
  private parent: number[] = [];
  readonly size: number[] = [];
  readonly pinned: boolean[] = [];
  fresh(size: number, pinned: boolean): number {
    this.parent.push(this.parent.length);
    this.size.push(size);
    this.pinned.push(pinned);
    return this.parent.length - 1;
  }
  find(a: number): number {
    while (this.parent[a] !== a) a = this.parent[a] = this.parent[this.parent[a]];
    return a;
  }
  union(a: number, b: number): void {
    const [ra, rb] = [this.find(a), this.find(b)];
    if (ra === rb) return;
    this.parent[rb] = ra;
    this.pinned[ra] ||= this.pinned[rb];
  }
  pin(a: number): void {
    this.pinned[this.find(a)] = true;
  }
}

export interface ChannelPlan {
  /** Kept channel indices per producing weight (sorted), after unification and pinning. */
  kept: Map<string, number[]>;
  /** Weights whose requested removal was overridden (their channels reach an output or an opaque op). */
  pinned: string[];
}

const channelsOf = (graph: Graph, value: string, shapes: Map<string, number[]>) => {
  const shape = shapes.get(value) ?? graph.values[value]?.shape;
  return shape ? shape[shape.length - 1] : -1;
};

/** Works out which channels every layer keeps, propagating requests through the channel rules. */
function analyse(graph: Graph, keep: ReadonlyMap<string, readonly number[]>) {
  const spaces = new Spaces();
  const layout = new Map<string, Segment[]>();
  const shapes = new Map<string, number[]>([...graph.inputs, ...graph.params].map((v) => [v.name, v.shape]));
  const producerSpace = new Map<string, number>();
  const layoutOf = (v: string): Segment[] => {
    let l = layout.get(v);
    if (!l) {
      l = [{ space: spaces.fresh(channelsOf(graph, v, shapes), true), size: channelsOf(graph, v, shapes) }];
      layout.set(v, l);
    }
    return l;
  };
  const pinAll = (v: string) => layoutOf(v).forEach((s) => spaces.pin(s.space));
  for (const node of graph.nodes) {
    const rule = channelRuleOf(node);
    if (rule.kind === 'opaque') {
      node.inputs.filter(Boolean).forEach(pinAll);
      node.outputs.forEach((o) => layoutOf(o));
      continue;
    }
    if (rule.kind === 'produce') {
      const w = node.inputs[rule.weightInput];
      const cout = channelsOf(graph, w, shapes);
      const space = spaces.fresh(cout, !graph.params.some((p) => p.name === w));
      producerSpace.set(w, space);
      layout.set(node.outputs[0], [{ space, size: cout }]);
    } else if (rule.kind === 'through') {
      layout.set(node.outputs[0], layoutOf(node.inputs[0]));
    } else if (rule.kind === 'unify') {
      const [a, b] = node.inputs.map(layoutOf);
      const ca = a.reduce((s, x) => s + x.size, 0);
      const cb = b.reduce((s, x) => s + x.size, 0);
      if (ca === cb && a.length === b.length && a.every((s, i) => s.size === b[i].size)) {
        a.forEach((s, i) => spaces.union(s.space, b[i].space));
        layout.set(node.outputs[0], a);
      } else if (cb === 1 || ca === 1) {
        layout.set(node.outputs[0], ca === 1 ? b : a);
      } else {
        node.inputs.forEach(pinAll);
        layoutOf(node.outputs[0]);
      }
    } else {
      const axis = rule.axis;
      const rank = (graph.values[node.outputs[0]]?.shape ?? []).length;
      if (axis === -1 || axis === rank - 1) layout.set(node.outputs[0], node.inputs.flatMap(layoutOf));
      else {
        node.inputs.forEach(pinAll);
        layoutOf(node.outputs[0]);
      }
    }
  }
  graph.outputs.forEach(pinAll);
  // Kept channels per space root: the union of what its producers keep.
  const keptByRoot = new Map<number, Set<number>>();
  for (const [w, space] of producerSpace) {
    const root = spaces.find(space);
    const set = keptByRoot.get(root) ?? new Set<number>();
    const request = keep.get(w);
    const all = Array.from({ length: spaces.size[space] }, (_, i) => i);
    (request && !spaces.pinned[root] ? request : all).forEach((c) => set.add(c));
    keptByRoot.set(root, set);
  }
  const keptOf = (space: number): number[] => {
    const root = spaces.find(space);
    const s = keptByRoot.get(root);
    return s ? [...s].sort((x, y) => x - y) : Array.from({ length: spaces.size[space] }, (_, i) => i);
  };
  const pinned = [...keep.keys()].filter((w) => producerSpace.has(w) && spaces.pinned[spaces.find(producerSpace.get(w)!)]);
  return { layout, producerSpace, keptOf, pinned };
}

/** Kept indices into a value's channel axis, given its segments. */
function keptIndices(segments: Segment[], keptOf: (space: number) => number[]): number[] {
  let offset = 0;
  const out: number[] = [];
  for (const s of segments) {
    keptOf(s.space).forEach((c) => out.push(offset + c));
    offset += s.size;
  }
  return out;
}

/**
 * Removes channels for real, so a pruned model gets smaller and faster: `keep` maps a conv2d/dense
 * weight to the output channels it keeps. Removal propagates through batch norm, activations,
 * element-wise ops (whose inputs are unified to the union of what their producers keep), channel
 * concat and into every consuming layer's input-channel axis, as each op's declared channel rule
 * (`OpDef.channels`) says. Channels that reach a graph output or an opaque op are kept and listed in `plan.pinned`.
 */
export function removeChannels(graph: Graph, params: ParamStore, keep: ReadonlyMap<string, readonly number[]>): { graph: Graph; params: ParamStore; plan: ChannelPlan } {
  for (const [w, channels] of keep) {
    const p = graph.params.find((q) => q.name === w);
    if (!p) throw new BevzipError(ERROR_CODES.UNKNOWN_VALUE, `removeChannels: no param named '${w}'`);
    const cout = p.shape[p.shape.length - 1];
    if (channels.length === 0 || channels.some((c) => !Number.isInteger(c) || c < 0 || c >= cout)) {
      throw new BevzipError(ERROR_CODES.CONFIG, `removeChannels: '${w}' must keep a non-empty list of channel indices in [0, ${cout})`);
    }
  }
  const { layout, producerSpace, keptOf, pinned } = analyse(graph, keep);
  const g = structuredClone(graph);
  const store = params.clone();
  const slices = new Map<string, { axis: number; indices: number[] }[]>();
  const plan = (param: string, axis: number, indices: number[]) => slices.set(param, [...(slices.get(param) ?? []), { axis, indices }]);
  const kept = new Map<string, number[]>();
  g.nodes.forEach((node: NodeDef) => {
    const rule = channelRuleOf(node);
    if (rule.kind === 'produce') {
      const w = node.inputs[rule.weightInput];
      const space = producerSpace.get(w);
      if (space === undefined || !store.has(w)) return;
      const k = keptOf(space);
      kept.set(w, k);
      const rank = g.params.find((p) => p.name === w)!.shape.length;
      plan(w, rank - 1, k);
      const bias = rule.biasInput !== undefined ? node.inputs[rule.biasInput] : '';
      if (bias && store.has(bias)) plan(bias, 0, k);
      const inLayout = layout.get(node.inputs[0]);
      if (inLayout && !inLayout.every((s) => keptOf(s.space).length === s.size)) plan(w, rule.inAxis, keptIndices(inLayout, keptOf));
    } else if (rule.kind === 'through' && rule.perChannelInputs) {
      const k = keptIndices(layout.get(node.inputs[0]) ?? [], keptOf);
      rule.perChannelInputs.forEach((i) => node.inputs[i] && store.has(node.inputs[i]) && plan(node.inputs[i], 0, k));
    }
  });
  for (const [name, all] of slices) {
    const p = g.params.find((q) => q.name === name)!;
    const cuts = all.filter(({ axis, indices }) => indices.length !== p.shape[axis]);
    if (cuts.length === 0) continue;
    const value = tf.tidy(() => cuts.reduce((t, { axis, indices }) => tf.gather(t, tf.tensor1d(indices, 'int32'), axis), store.get(name) as tf.Tensor));
    p.shape = [...value.shape];
    store.set(name, value);
    value.dispose();
  }
  return { graph: reinfer(g), params: store, plan: { kept, pinned } };
}
