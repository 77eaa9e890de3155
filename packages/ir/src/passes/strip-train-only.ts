import { BevzipError, ERROR_CODES, nodeLabel } from '../errors';
import type { Graph } from '../graph';
import { reinfer } from './reinfer';

/**
 * Removes nodes and params tagged `trainOnly` (adapters, discriminators) together with graph outputs
 * they produce. A deployed node that reads a train-only value is a graph error, named.
 */
export function stripTrainOnly(graph: Graph): Graph {
  const removedValues = new Set<string>();
  graph.params.filter((p) => p.tags.trainOnly).forEach((p) => removedValues.add(p.name));
  graph.nodes.filter((n) => n.tags.trainOnly).forEach((n) => n.outputs.forEach((o) => removedValues.add(o)));
  const nodes = graph.nodes.filter((n) => !n.tags.trainOnly);
  for (const node of nodes) {
    const bad = node.inputs.find((v) => removedValues.has(v));
    if (bad) throw new BevzipError(ERROR_CODES.GRAPH_INVALID, `${nodeLabel(node)} reads train-only value '${bad}'; only train-only nodes may`);
  }
  const outputs = graph.outputs.filter((o) => !removedValues.has(o));
  return reinfer(structuredClone({ ...graph, nodes, outputs, params: graph.params.filter((p) => !p.tags.trainOnly) }));
}
