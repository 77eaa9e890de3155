import type { Graph, TensorInfo } from '../graph';
import { inferNode } from '../infer';
import { validateGraph } from '../validate';

/** Consumers of every value: value name → indices of the nodes that read it. */
export function consumersOf(graph: Graph): Map<string, number[]> {
  const out = new Map<string, number[]>();
  graph.nodes.forEach((n, i) => n.inputs.forEach((v) => v && out.set(v, [...(out.get(v) ?? []), i])));
  return out;
}

/**
 * Recomputes every node output's shape from the (possibly changed) inputs and params, then validates.
 * Passes edit nodes and params and call this to get a consistent graph back.
 */
export function reinfer(graph: Graph): Graph {
  const known = new Map<string, TensorInfo>([...graph.inputs.map((i) => [i.name, i] as const), ...graph.params.map((p) => [p.name, p] as const)]);
  const values: Record<string, TensorInfo> = {};
  for (const node of graph.nodes) {
    const infos = inferNode(node, (v) => known.get(v));
    node.outputs.forEach((o, i) => {
      known.set(o, infos[i]);
      values[o] = infos[i];
    });
  }
  const next = { ...graph, values };
  validateGraph(next);
  return next;
}
