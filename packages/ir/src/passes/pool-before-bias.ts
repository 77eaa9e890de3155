import type { Graph, NodeDef } from '../graph';
import { consumersOf, reinfer } from './reinfer';

/**
 * Moves a PointPillars PFN's bias and ReLU after its max over points:
 * `pillar_max(relu(dense(x, W, b)), mask)` becomes `pillar_max(dense(x, W), mask, b, {relu})`.
 * Exact in float: x ↦ fl(x + b) and ReLU are monotone, so the max of relu(z + b) over a pillar's
 * points is relu(max z + b). The bias and ReLU then run on [pillars, C] instead of
 * [pillars, points, C] (12× smaller on the tiny model), and the dense becomes a bare MatMul.
 *
 * The fused node's output takes the ReLU's name, so an activation quantizer placed there stays
 * where it was; that is exact too (quantization is monotone and keeps 0 at 0, the value of an
 * empty pillar). Applies only when the dense and ReLU outputs have no other reader and are not in
 * `keep` (values a caller still reads), and the pillar max's output is neither.
 * Returns a new graph; params are unchanged (the bias param moves to the pillar max).
 */
export function poolBeforeBias(graph: Graph, keep: ReadonlySet<string> = new Set()): Graph {
  const g = structuredClone(graph);
  const consumers = consumersOf(g);
  const outputs = new Set(g.outputs);
  const producer = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const internal = (v: string) => !outputs.has(v) && !keep.has(v);
  const soleReader = (v: string) => (consumers.get(v) ?? []).length === 1 && internal(v);
  const drop = new Set<NodeDef>();
  for (const pool of g.nodes) {
    if (pool.op !== 'pillar_max' || pool.inputs[2] || pool.attrs?.relu || !internal(pool.outputs[0])) continue;
    const relu = producer.get(pool.inputs[0]);
    if (relu?.op !== 'relu' || !soleReader(relu.outputs[0])) continue;
    const dense = producer.get(relu.inputs[0]);
    if (dense?.op !== 'dense' || !dense.inputs[2] || !soleReader(dense.outputs[0])) continue;
    const bias = dense.inputs[2];
    const pooledName = pool.outputs[0];
    dense.inputs = dense.inputs.slice(0, 2);
    dense.outputs[0] = `${pooledName}_points`;
    pool.inputs = [dense.outputs[0], pool.inputs[1], bias];
    pool.attrs = { ...pool.attrs, relu: true };
    pool.outputs[0] = relu.outputs[0];
    for (const n of g.nodes) n.inputs = n.inputs.map((v) => (v === pooledName ? relu.outputs[0] : v));
    drop.add(relu);
  }
  if (drop.size === 0) return graph;
  g.nodes = g.nodes.filter((n) => !drop.has(n));
  return reinfer(g);
}
