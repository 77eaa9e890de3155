import { BevzipError, ERROR_CODES, getOp, hasOp, nodeLabel, type Graph, type Stage } from '@bevzip/ir';

/**
 * The model parts quantization is switched on by, in the paper's order (backbone → neck →
 * view/encoder → decoder/head), each a list of IR stage tags.
 */
export const DEFAULT_PARTS: Readonly<Record<string, readonly Stage[]>> = {
  backbone: ['backbone'],
  neck: ['neck'],
  encoder: ['view', 'encoder'],
  decoder: ['decoder', 'head'],
};

/** The op's learned kernel (input slot and output-channel axis in the IR layout), as the op declares it; undefined for ops without one. */
export function weightSlotOf(op: string): { input: number; outAxis: number } | undefined {
  return hasOp(op) ? (getOp(op).weight ?? undefined) : undefined;
}

/** How layers reading a graph input (first) or writing a graph output (last) are quantized. */
export type EdgeLayerPolicy = 'quantize' | '8bit' | 'skip';

export interface PlanOptions {
  wBits: number;
  aBits: number;
  /** Ops whose weights and input activations are quantized. */
  ops: readonly string[];
  parts: Readonly<Record<string, readonly string[]>>;
  firstLayer: EdgeLayerPolicy;
  lastLayer: EdgeLayerPolicy;
  /** Quantize activations known to be non-negative (ReLU outputs) with the unsigned range. */
  unsignedAfterRelu: boolean;
  /**
   * Also quantize each quantized layer's output (after its ReLU when a ReLU is its only reader), so
   * every quantized layer sits between a DequantizeLinear and a QuantizeLinear in the exported model
   * and onnxruntime runs it as an integer kernel. `false` quantizes layer inputs only.
   */
  quantizeOutputs?: boolean;
}

/** One quantized layer: its weight (per output channel) and the activation it reads. */
export interface QuantLayer {
  node: string;
  op: string;
  part: string;
  weight: string;
  /** Output-channel axis of the weight in the IR layout. */
  weightAxis: number;
  wBits: number;
  aBits: number;
  /** The value quantized per tensor before this layer (a graph input for a first layer). */
  input: string;
  /** The value quantized after this layer (its output, or its ReLU's), when outputs are quantized. */
  output?: string;
  edge: 'first' | 'last' | 'inner';
}

export interface QuantActivation {
  bits: number;
  signed: boolean;
  /** Parts of the layers reading it: it is quantized once any of them is. */
  parts: string[];
}

/** What a quantization plan holds: plain data, saved with the calibrated ranges. */
export interface QuantPlan {
  layers: QuantLayer[];
  activations: Record<string, QuantActivation>;
}

/**
 * Values that are ≥ 0 by construction, from each op's declared sign: outputs of `nonNegative` ops
 * (ReLU, sigmoid, softmax) and of `preserves` ops (moves, pools, add, mul) whose inputs all are.
 */
export function nonNegativeValues(graph: Graph): Set<string> {
  const out = new Set<string>();
  for (const node of graph.nodes) {
    const ins = node.inputs.filter(Boolean);
    const sign = getOp(node.op).sign;
    if (sign === 'nonNegative' || (sign === 'preserves' && ins.length > 0 && ins.every((v) => out.has(v)))) {
      for (const o of node.outputs) out.add(o);
    }
  }
  return out;
}

/** The part a stage tag belongs to, or undefined when no part lists it. */
export function partOf(stage: string | undefined, parts: PlanOptions['parts']): string | undefined {
  if (!stage) return undefined;
  return Object.keys(parts).find((p) => parts[p].includes(stage));
}

/**
 * Chooses the layers to quantize: every node of a quantized op whose weight is a param and whose
 * stage tag belongs to a part. First and last layers follow their policy. Each layer's input is
 * quantized (for a first layer, the graph input) and, unless `quantizeOutputs` is false, its output.
 * @throws BevzipError (E_CONFIG) when nothing in the graph matches.
 */
export function planQuantization(graph: Graph, o: PlanOptions): QuantPlan {
  const params = new Set(graph.params.map((p) => p.name));
  const inputs = new Set(graph.inputs.map((i) => i.name));
  const outputs = new Set(graph.outputs);
  const nonNeg = nonNegativeValues(graph);
  const readers = new Map<string, typeof graph.nodes>();
  for (const n of graph.nodes) for (const v of n.inputs) readers.set(v, [...(readers.get(v) ?? []), n]);
  const layers: QuantLayer[] = [];
  const activations: Record<string, QuantActivation> = {};
  for (const node of graph.nodes) {
    const slot = weightSlotOf(node.op);
    if (!o.ops.includes(node.op) || !slot || !params.has(node.inputs[slot.input])) continue;
    const part = partOf(node.tags.stage, o.parts);
    if (!part) continue;
    const edge = inputs.has(node.inputs[0]) ? 'first' : node.outputs.some((v) => outputs.has(v)) ? 'last' : 'inner';
    const policy = edge === 'first' ? o.firstLayer : edge === 'last' ? o.lastLayer : 'quantize';
    if (policy === 'skip') continue;
    const wBits = policy === '8bit' ? 8 : o.wBits;
    const aBits = policy === '8bit' ? 8 : o.aBits;
    const input = node.inputs[0];
    const output = o.quantizeOutputs === false ? undefined : outputSite(node.outputs[0], readers);
    layers.push({ node: node.name, op: node.op, part, weight: node.inputs[slot.input], weightAxis: slot.outAxis, wBits, aBits, input, output, edge });
    for (const v of output ? [input, output] : [input]) {
      const a = (activations[v] ??= { bits: aBits, signed: !(o.unsignedAfterRelu && nonNeg.has(v)), parts: [] });
      a.bits = Math.max(a.bits, aBits);
      if (!a.parts.includes(part)) a.parts.push(part);
    }
  }
  if (layers.length === 0) {
    const node = graph.nodes.find((n) => o.ops.includes(n.op));
    const hint = node ? `; e.g. ${nodeLabel(node)} has stage tag '${node.tags.stage ?? '(none)'}'` : '';
    throw new BevzipError(ERROR_CODES.CONFIG, `quantization plan: no ${o.ops.join('/')} layer of graph '${graph.name}' has a weight param and a stage tag in parts {${Object.keys(o.parts).join(', ')}}${hint}`);
  }
  return { layers, activations };
}

/** Where a layer's output is quantized: after its ReLU when the ReLU is the output's only reader (ORT fuses the pair), else the output itself. */
function outputSite(output: string, readers: ReadonlyMap<string, readonly { op: string; outputs: string[] }[]>): string {
  const r = readers.get(output) ?? [];
  return r.length === 1 && r[0].op === 'relu' ? r[0].outputs[0] : output;
}

/** The layers and activations switched on when `enabled` parts are quantized. */
export function enabledSubset(plan: QuantPlan, enabled: readonly string[]): { layers: QuantLayer[]; activations: string[] } {
  const on = new Set(enabled);
  return {
    layers: plan.layers.filter((l) => on.has(l.part)),
    activations: Object.keys(plan.activations).filter((v) => plan.activations[v].parts.some((p) => on.has(p))),
  };
}
