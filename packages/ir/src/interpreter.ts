import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES, nodeLabel } from './errors';
import { matchesSelector, type Graph, type NodeDef, type TagSelector } from './graph';
import { parseAttrs } from './infer';
import { getOp } from './ops';

/** Anything that maps a param name to its current value (a ParamStore, or a plain map in tests). */
export interface ParamLookup {
  get(name: string): tf.Tensor;
}

export type TensorTransform = (value: tf.Tensor) => tf.Tensor;

export interface RunOptions {
  /** Training mode: batch statistics in batch norm, state updates returned. Default false. */
  training?: boolean;
  /** Values to return as outputs; default the graph's outputs. */
  outputs?: readonly string[];
  /** Extra intermediate values to return (by value name). */
  taps?: readonly string[];
  /** Multiplicative param masks applied inside the forward, so masked weights get zero gradient. */
  masks?: ReadonlyMap<string, tf.Tensor>;
  /** Per-param transforms applied after the mask (fake quantizers with a straight-through gradient). */
  weightTransforms?: ReadonlyMap<string, TensorTransform>;
  /** Per-value transforms applied to node outputs and graph inputs before any consumer sees them (activation quantizers, feature masks). */
  activationTransforms?: ReadonlyMap<string, TensorTransform>;
  /**
   * Training progress p ∈ [0, 1] of the current stage, for ops whose behaviour follows a schedule
   * (`grad_reverse` with `schedule: 'dann'`). The pipeline passes `step / steps` on every step, so
   * one graph changes per step without being rebuilt and a resumed run sees the same values.
   */
  progress?: number;
}

export interface RunResult {
  outputs: Record<string, tf.Tensor>;
  taps: Record<string, tf.Tensor>;
  /** New values of state params (running statistics), keyed by param name; empty in eval mode. */
  state: Record<string, tf.Tensor>;
}

interface Plan {
  nodes: { node: NodeDef; attrs: unknown }[];
}

const planCache = new WeakMap<Graph, Map<string, Plan>>();

/** The nodes needed to compute `wanted`, in graph order (unknown names are a coded error). */
export function nodesNeeded(graph: Graph, wanted: readonly string[]): NodeDef[] {
  const producer = new Map<string, NodeDef>();
  for (const node of graph.nodes) for (const o of node.outputs) producer.set(o, node);
  const defined = new Set([...graph.inputs.map((i) => i.name), ...graph.params.map((p) => p.name), ...producer.keys()]);
  for (const w of wanted) {
    if (!defined.has(w)) throw new BevzipError(ERROR_CODES.UNKNOWN_VALUE, `graph '${graph.name}' has no value named '${w}'`);
  }
  const needed = new Set<NodeDef>();
  const stack = [...wanted];
  while (stack.length) {
    const node = producer.get(stack.pop()!);
    if (!node || needed.has(node)) continue;
    needed.add(node);
    stack.push(...node.inputs.filter(Boolean));
  }
  return graph.nodes.filter((n) => needed.has(n));
}

/** The nodes needed for the requested values, in order, with parsed attributes (cached per graph). */
function planFor(graph: Graph, wanted: readonly string[]): Plan {
  const key = wanted.join('\u0000');
  let perGraph = planCache.get(graph);
  if (!perGraph) planCache.set(graph, (perGraph = new Map()));
  const cached = perGraph.get(key);
  if (cached) return cached;
  const plan: Plan = {
    nodes: nodesNeeded(graph, wanted).map((node) => ({ node, attrs: parseAttrs(getOp(node.op), node) })),
  };
  perGraph.set(key, plan);
  return plan;
}

function checkFeeds(graph: Graph, feeds: Readonly<Record<string, tf.Tensor>>, plan: Plan): void {
  const used = new Set(plan.nodes.flatMap((p) => p.node.inputs));
  for (const input of graph.inputs) {
    const t = feeds[input.name];
    if (!t) {
      if (used.has(input.name)) throw new BevzipError(ERROR_CODES.MISSING_FEED, `graph '${graph.name}': no feed for input '${input.name}'`);
      continue;
    }
    const okRank = t.rank === input.shape.length;
    const okDims = okRank && input.shape.every((d, i) => d === -1 || d === t.shape[i]);
    if (!okDims || t.dtype !== input.dtype) {
      throw new BevzipError(
        ERROR_CODES.BAD_FEED,
        `graph '${graph.name}': input '${input.name}' expects [${input.shape}] ${input.dtype} (-1 = any), got [${t.shape}] ${t.dtype}`,
      );
    }
  }
}

/**
 * Runs a graph on feeds. Everything happens inside one `tf.tidy`: only the returned tensors survive,
 * so the live tensor count is flat across repeated runs. Param values flow through mask → weight
 * transform before any node reads them; node outputs and fed inputs flow through their activation transform.
 */
export function run(graph: Graph, params: ParamLookup, feeds: Readonly<Record<string, tf.Tensor>>, options: RunOptions = {}): RunResult {
  const outputs = options.outputs ?? graph.outputs;
  const taps = options.taps ?? [];
  const plan = planFor(graph, [...outputs, ...taps]);
  checkFeeds(graph, feeds, plan);
  const paramNames = new Set(graph.params.map((p) => p.name));
  const training = options.training ?? false;
  const progress = options.progress;
  if (progress !== undefined && !(progress >= 0 && progress <= 1)) {
    throw new BevzipError(ERROR_CODES.CONFIG, `run of graph '${graph.name}': progress must be a number in [0, 1], got ${progress}`);
  }
  return tf.tidy(() => {
    const env = new Map<string, tf.Tensor>();
    const state: Record<string, tf.Tensor> = {};
    const resolve = (name: string): tf.Tensor => {
      const hit = env.get(name);
      if (hit) return hit;
      if (paramNames.has(name)) {
        let w: tf.Tensor = params.get(name);
        const mask = options.masks?.get(name);
        if (mask) w = tf.mul(w, mask);
        const transform = options.weightTransforms?.get(name);
        if (transform) w = transform(w);
        env.set(name, w);
        return w;
      }
      const fed = feeds[name];
      if (!fed) throw new BevzipError(ERROR_CODES.MISSING_FEED, `no value for '${name}'`);
      // A graph input may be quantized like any activation (the first layer's input).
      const transform = options.activationTransforms?.get(name);
      const value = transform ? transform(fed) : fed;
      env.set(name, value);
      return value;
    };
    for (const { node, attrs } of plan.nodes) {
      const op = getOp(node.op);
      const inputs = node.inputs.map((n) => (n === '' ? undefined : resolve(n)));
      let results: tf.Tensor[];
      try {
        results = op.forward(inputs, attrs, {
          training,
          node,
          progress,
          setState: (i, value) => {
            state[node.inputs[i]] = value;
          },
        });
      } catch (e) {
        if (e instanceof BevzipError) throw e;
        throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `${nodeLabel(node)} failed at run time: ${(e as Error).message}`, { cause: e });
      }
      node.outputs.forEach((o, i) => {
        const transform = options.activationTransforms?.get(o);
        env.set(o, transform ? transform(results[i]) : results[i]);
      });
    }
    const pick = (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, resolve(n)]));
    return { outputs: pick(outputs), taps: pick(taps), state };
  });
}

/** Names of node outputs whose node matches the selector (for tapping "the camera neck", say). */
export function selectValues(graph: Graph, selector: TagSelector): string[] {
  return graph.nodes.filter((n) => matchesSelector(n, selector)).flatMap((n) => n.outputs);
}

/** Names of params matching the selector. */
export function selectParams(graph: Graph, selector: TagSelector): string[] {
  return graph.params.filter((p) => matchesSelector(p, selector)).map((p) => p.name);
}
