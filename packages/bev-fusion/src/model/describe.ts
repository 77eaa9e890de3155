import { getOp, inferNode, matchesSelector, parseAttrs, sizeOf, type Graph, type NodeDef, type TensorInfo } from '@bevzip/ir';
import { MODEL_INPUTS } from './build';
import { COST_ROWS, STAGE_SELECTORS } from './selectors';

/** Cost of one part of a model, per sample. */
export interface StageCost {
  name: string;
  /** Trainable scalars (conv/linear weights, biases, BN γ/β). */
  params: number;
  /** Non-trainable scalars (BN running statistics). */
  state: number;
  /** Multiply-accumulates per sample. */
  macs: number;
}

export interface ModelDescription {
  /** One row per part in pipeline order (parts a variant lacks have zeros). */
  stages: StageCost[];
  /** Whatever no row claims (adapters and the like); zeros for a plain built model. */
  other: StageCost;
  total: StageCost;
}

/**
 * MACs of one node from concrete shapes, as its op counts them (`OpDef.macs`): convolutions and
 * dense/matmul products, one multiply per output of `mul` (the LSS lift), one add per pooled
 * element of `bev_pool`. Batch norm, activations, resizes, scatters and pillar max count 0 (BN folds
 * into the conv; the rest are data movement or comparisons), as in the spec's cost table.
 */
function nodeMacs(node: NodeDef, ins: (TensorInfo | undefined)[], outs: TensorInfo[]): number {
  const op = getOp(node.op);
  return op.macs(ins, outs, parseAttrs(op, node));
}

/**
 * Params and MACs per stage of a BEVFusion graph (see {@link COST_ROWS}). MACs are per sample: shapes
 * are re-inferred with batch 1, i.e. `meta.cameras` images, so this also describes graphs whose
 * channels a pass has removed.
 */
export function describeModel(graph: Graph): ModelDescription {
  const cameras = typeof graph.meta?.cameras === 'number' ? graph.meta.cameras : 1;
  const known = new Map<string, TensorInfo>();
  for (const input of graph.inputs) {
    const lead = input.name === MODEL_INPUTS.images ? cameras : 1;
    known.set(input.name, {
      dtype: input.dtype,
      shape: input.shape.map((d, i) => (d === -1 ? (i === 0 ? lead : 1) : d)),
    });
  }
  for (const p of graph.params) known.set(p.name, p);
  const rows = COST_ROWS.map((r) => ({
    selector: STAGE_SELECTORS[r.selector],
    cost: { name: r.name, params: 0, state: 0, macs: 0 },
  }));
  const other: StageCost = { name: 'other', params: 0, state: 0, macs: 0 };
  const rowOf = (item: Pick<NodeDef, 'scope' | 'tags'>) =>
    rows.find((r) => matchesSelector(item, r.selector))?.cost ?? other;
  for (const node of graph.nodes) {
    const outs = inferNode(node, (v) => known.get(v));
    node.outputs.forEach((o, i) => known.set(o, outs[i]));
    rowOf(node).macs += nodeMacs(
      node,
      node.inputs.map((v) => (v ? known.get(v) : undefined)),
      outs,
    );
  }
  for (const p of graph.params) {
    const row = rowOf(p);
    if (p.trainable) row.params += sizeOf(p.shape);
    else row.state += sizeOf(p.shape);
  }
  const stages = rows.map((r) => r.cost);
  const total = [...stages, other].reduce(
    (t, s) => ({
      name: 'total',
      params: t.params + s.params,
      state: t.state + s.state,
      macs: t.macs + s.macs,
    }),
    { name: 'total', params: 0, state: 0, macs: 0 },
  );
  return { stages, other, total };
}

/** A plain-text table of a description (params, MMACs per stage). */
export function formatModelDescription(d: ModelDescription): string {
  const line = (s: StageCost) =>
    `${s.name.padEnd(18)}${String(s.params).padStart(10)}${(s.macs / 1e6).toFixed(1).padStart(10)}`;
  const body = [...d.stages, ...(d.other.params || d.other.macs ? [d.other] : [])].map(line);
  return [
    `${'stage'.padEnd(18)}${'params'.padStart(10)}${'MMACs'.padStart(10)}`,
    ...body,
    line(d.total),
  ].join('\n');
}
