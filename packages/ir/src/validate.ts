import { BevzipError, ERROR_CODES, nodeLabel } from './errors';
import type { Graph, TensorInfo } from './graph';
import { inferNode } from './infer';

const fail = (msg: string): never => {
  throw new BevzipError(ERROR_CODES.GRAPH_INVALID, `graph: ${msg}`);
};

/**
 * Checks a graph end to end: unique names, every input defined before use (which also rules out
 * cycles, since nodes are stored in topological order), known ops with valid attributes, recorded
 * shapes equal to re-inferred ones, and outputs that exist. Throws a coded error naming the culprit.
 */
export function validateGraph(graph: Graph): void {
  const known = new Map<string, TensorInfo>();
  const define = (name: string, info: TensorInfo, what: string) => {
    if (!name) fail(`${what} has an empty name`);
    if (known.has(name)) fail(`duplicate value name '${name}' (${what})`);
    known.set(name, info);
  };
  graph.inputs.forEach((v) => define(v.name, v, `input '${v.name}'`));
  graph.params.forEach((p) => define(p.name, p, `param '${p.name}'`));
  const producers = new Map<string, string>();
  graph.nodes.forEach((n) => n.outputs.forEach((o) => producers.set(o, n.name)));
  const nodeNames = new Set<string>();
  for (const node of graph.nodes) {
    if (nodeNames.has(node.name)) fail(`duplicate node name '${node.name}'`);
    nodeNames.add(node.name);
    for (const input of node.inputs) {
      if (input === '' || known.has(input)) continue;
      if (producers.has(input)) {
        fail(`${nodeLabel(node)} reads '${input}' before node '${producers.get(input)}' produces it (a cycle, or nodes out of order)`);
      }
      fail(`${nodeLabel(node)} reads '${input}', which no input, param or node defines`);
    }
    const inferred = inferNode(node, (v) => known.get(v));
    node.outputs.forEach((o, i) => {
      const recorded = graph.values[o];
      if (!recorded) fail(`${nodeLabel(node)}: no recorded shape for output '${o}'`);
      const same = recorded.dtype === inferred[i].dtype && recorded.shape.join(',') === inferred[i].shape.join(',');
      if (!same) {
        throw new BevzipError(
          ERROR_CODES.SHAPE_MISMATCH,
          `graph: ${nodeLabel(node)}: output '${o}' is recorded as [${recorded.shape}] ${recorded.dtype} but infers to [${inferred[i].shape}] ${inferred[i].dtype}`,
        );
      }
      define(o, inferred[i], `output of ${nodeLabel(node)}`);
    });
  }
  if (graph.outputs.length === 0) fail('no outputs');
  for (const o of graph.outputs) if (!known.has(o)) fail(`output '${o}' is not defined`);
}
