import { getOp, inferNode, parseAttrs, sizeOf, type Graph, type TensorInfo } from '@bevzip/ir';
import { enabledSubset, partOf, type PlanOptions, type QuantPlan } from './plan';

/** Size and bit operations of one model part (or the total). */
export interface QuantCostRow {
  part: string;
  /** Stored scalars (weights, biases, norm parameters; running statistics excluded). */
  params: number;
  /** Of those, scalars held at low precision. */
  quantizedParams: number;
  /** Bytes at the planned bit-widths: b_w bits for quantized weights, 32 for everything else. */
  bytes: number;
  /** Bytes of the same params in float32. */
  fpBytes: number;
  /** Multiply-accumulates per sample of the layers with a weight (conv2d, dense, conv_transpose2d). */
  macs: number;
  /** Σ b_w·b_a·MACs per sample (layers left in float count 32·32). */
  bops: number;
  fpBops: number;
}

const empty = (part: string): QuantCostRow => ({ part, params: 0, quantizedParams: 0, bytes: 0, fpBytes: 0, macs: 0, bops: 0, fpBops: 0 });

/**
 * MACs per sample of each node whose op declares a weight (conv2d, dense, conv_transpose2d), as the
 * op counts them (`OpDef.macs`), from shapes re-inferred at batch 1.
 */
export function layerMacs(graph: Graph, perSampleLead: Readonly<Record<string, number>> = {}): Map<string, number> {
  const known = new Map<string, TensorInfo>();
  for (const i of graph.inputs) known.set(i.name, { dtype: i.dtype, shape: i.shape.map((d, k) => (d === -1 ? (k === 0 ? (perSampleLead[i.name] ?? 1) : 1) : d)) });
  for (const p of graph.params) known.set(p.name, p);
  const macs = new Map<string, number>();
  for (const node of graph.nodes) {
    const outs = inferNode(node, (v) => known.get(v));
    node.outputs.forEach((o, i) => known.set(o, outs[i]));
    const op = getOp(node.op);
    if (!op.weight || !known.get(node.inputs[op.weight.input])) continue;
    macs.set(node.name, op.macs(node.inputs.map((v) => (v ? known.get(v) : undefined)), outs, parseAttrs(op, node)));
  }
  return macs;
}

/**
 * Model size (Σ bits·params / 8) and BOPs (Σ b_w·b_a·MACs) per part and in total, with the parts in
 * `enabled` quantized as planned. For a BEVFusion graph pass `{ images: cameras }` so the camera
 * branch counts every camera of a sample.
 */
export function quantCost(graph: Graph, plan: QuantPlan, enabled: readonly string[], parts: PlanOptions['parts'], perSampleLead: Readonly<Record<string, number>> = {}): { rows: QuantCostRow[]; total: QuantCostRow } {
  const { layers } = enabledSubset(plan, enabled);
  const bitsOf = new Map(layers.map((l) => [l.weight, l]));
  const byNode = new Map(layers.map((l) => [l.node, l]));
  const rows = new Map<string, QuantCostRow>([...Object.keys(parts), 'other'].map((p) => [p, empty(p)]));
  const rowOf = (stage: string | undefined) => rows.get(partOf(stage, parts) ?? 'other')!;
  for (const p of graph.params) {
    if (p.role === 'state') continue;
    const row = rowOf(p.tags.stage);
    const n = sizeOf(p.shape);
    const q = bitsOf.get(p.name);
    row.params += n;
    row.fpBytes += n * 4;
    row.bytes += (n * (q ? q.wBits : 32)) / 8;
    if (q) row.quantizedParams += n;
  }
  const macs = layerMacs(graph, perSampleLead);
  for (const node of graph.nodes) {
    const m = macs.get(node.name);
    if (m === undefined) continue;
    const row = rowOf(node.tags.stage);
    const q = byNode.get(node.name);
    row.macs += m;
    row.fpBops += 32 * 32 * m;
    row.bops += (q ? q.wBits * (q.input ? q.aBits : 32) : 32 * 32) * m;
  }
  const list = [...rows.values()].filter((r) => r.part !== 'other' || r.params > 0 || r.macs > 0);
  const total = list.reduce((t, r) => {
    for (const k of ['params', 'quantizedParams', 'bytes', 'fpBytes', 'macs', 'bops', 'fpBops'] as const) t[k] += r[k];
    return t;
  }, empty('total'));
  return { rows: list, total };
}
