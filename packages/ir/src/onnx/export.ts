import * as tf from '@tensorflow/tfjs';
import { onnx } from 'onnx-proto';
import { BevzipError, ERROR_CODES, nodeLabel } from '../errors';
import type { DType, Graph, NodeDef, TensorInfo } from '../graph';
import { parseAttrs } from '../infer';
import { nodesNeeded, type ParamLookup } from '../interpreter';
import { getOp } from '../ops';
import { ParamStore } from '../params';
import { foldBatchNorm } from '../passes/fold-batchnorm';
import { poolBeforeBias } from '../passes/pool-before-bias';
import type { OnnxAttrValue, OnnxConstDType, OnnxNodeEmitter } from './emitter';

export interface OnnxExportOptions {
  /** ONNX opset; default 17 (the newest Debian's onnx 1.12 checks). */
  opset?: number;
  /** ONNX IR version; default 8, or 10 from opset 21 or with INT4 initializers. */
  irVersion?: number;
  /** Values to expose as graph outputs; default the graph's outputs. Only nodes they need are exported. */
  outputs?: readonly string[];
  /** Intermediate values to expose as extra graph outputs (teacher taps, parity checks). */
  extraOutputs?: readonly string[];
  /** Param masks baked into the exported weights. */
  masks?: ReadonlyMap<string, tf.Tensor>;
  /**
   * Rewrites how a param reaches its consumers, e.g. QuantizeLinear/DequantizeLinear around an int8
   * initializer. Receives the host data already masked and in ONNX layout; returns the value name
   * consumers read, or undefined to keep a plain float initializer.
   */
  paramHook?: (ctx: { name: string; data: Float32Array; dims: number[]; perm?: number[]; builder: OnnxModelBuilder }) => string | undefined;
  /** Called for each graph input and after each node's output is produced, e.g. to insert activation QDQ pairs; returns the replacement name. */
  activationHook?: (ctx: { value: string; builder: OnnxModelBuilder }) => string | undefined;
  producer?: string;
  /**
   * Fold each eval-mode batch norm into the conv or dense before it (default true), so the file runs
   * no BatchNormalization: onnxruntime fuses Conv+BN itself, but not a BN after a MatMul on a rank-4
   * tensor, which then costs two layout Transposes as well. Applies when `params` is a ParamStore.
   */
  foldBatchNorm?: boolean;
  /**
   * Move a pillar net's bias and ReLU after its max over points (default true; exact, see
   * `poolBeforeBias`), so they run on one value per pillar instead of one per point.
   */
  poolBeforeBias?: boolean;
  /**
   * Graph inputs fixed at export (e.g. a fixed camera rig's frustum-to-cell index); they leave the
   * model's inputs. An op that can use the host values does so (`bev_pool` sorts its cells at
   * export, see `OnnxNodeEmitter.fixedInput`); any other reader gets an initializer.
   */
  constantInputs?: Readonly<Record<string, ConstantInput>>;
}

/** The value of a graph input baked into an export. */
export interface ConstantInput {
  data: Int32Array | Float32Array;
  dims: readonly number[];
}

/** Checks a constant input against the graph input it replaces: known name, dtype, rank and fixed dims. */
function checkConstantInputs(graph: Graph, constants: Readonly<Record<string, ConstantInput>>): void {
  for (const [name, c] of Object.entries(constants)) {
    const input = graph.inputs.find((i) => i.name === name);
    const fail = (why: string) => {
      throw new BevzipError(ERROR_CODES.ONNX_EXPORT, `constant input '${name}': ${why}`);
    };
    if (!input) fail(`graph '${graph.name}' has no such input (inputs: ${graph.inputs.map((i) => i.name).join(', ')})`);
    const dtype = c.data instanceof Int32Array ? 'int32' : 'float32';
    if (input!.dtype !== dtype) fail(`expected ${input!.dtype} values, got ${dtype}`);
    if (c.dims.length !== input!.shape.length || c.dims.some((d, i) => input!.shape[i] !== -1 && input!.shape[i] !== d)) fail(`shape [${c.dims}] does not fit the input's [${input!.shape}]`);
    const size = c.dims.reduce((a, b) => a * b, 1);
    if (size !== c.data.length) fail(`shape [${c.dims}] holds ${size} values, got ${c.data.length}`);
  }
}

const DTYPE: Record<OnnxConstDType | DType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int32: onnx.TensorProto.DataType.INT32,
  int64: onnx.TensorProto.DataType.INT64,
  uint8: onnx.TensorProto.DataType.UINT8,
  int8: onnx.TensorProto.DataType.INT8,
  int16: onnx.TensorProto.DataType.INT16,
  // TensorProto.DataType.INT4 (ONNX 1.16); onnx-proto's enum predates it.
  int4: 22,
  bool: onnx.TensorProto.DataType.BOOL,
};

/** Packs signed 4-bit values two a byte, the first in the low nibble (the ONNX INT4 layout). */
export function packInt4(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 2));
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Number.isInteger(v) && v >= -8 && v <= 7)) throw new BevzipError(ERROR_CODES.ONNX_EXPORT, `int4 initializer: value ${v} at ${i} is not an integer in [-8, 7]`);
    out[i >> 1] |= (v & 0xf) << ((i & 1) * 4);
  }
  return out;
}

function rawBytes(values: ArrayLike<number>, dtype: OnnxConstDType): Uint8Array {
  if (dtype === 'int4') return packInt4(values);
  const typed =
    dtype === 'float32' ? Float32Array.from(values)
    : dtype === 'int32' ? Int32Array.from(values)
    : dtype === 'int64' ? BigInt64Array.from(Array.from(values, (v) => BigInt(Math.round(v))))
    : dtype === 'int8' ? Int8Array.from(values)
    : dtype === 'int16' ? Int16Array.from(values)
    : Uint8Array.from(values);
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

function toAttribute(name: string, v: OnnxAttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('f' in v) return { name, type: T.FLOAT, f: v.f };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  const t = v.tensor;
  return { name, type: T.TENSOR, t: { dims: t.dims, dataType: DTYPE[t.dtype], rawData: rawBytes(t.values, t.dtype) } };
}

/** Collects ONNX nodes and initializers with unique names. */
export class OnnxModelBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(readonly opset: number) {}

  reserve(name: string): void {
    this.used.add(name);
  }

  temp(hint: string): string {
    let name: string;
    do name = `${hint}__${this.counter++}`;
    while (this.used.has(name));
    this.used.add(name);
    return name;
  }

  private nodeCounter = 0;

  add(opType: string, inputs: string[], outputs: string[], attrs: Record<string, OnnxAttrValue> = {}, domain = ''): void {
    this.insert(this.nodes.length, opType, inputs, outputs, attrs, domain);
  }

  /** Adds a node at position `index` of the node list (which stays topologically sorted only if its inputs exist by then). */
  insert(index: number, opType: string, inputs: string[], outputs: string[], attrs: Record<string, OnnxAttrValue> = {}, domain = ''): void {
    this.nodes.splice(index, 0, {
      opType,
      domain,
      name: `${opType}_${this.nodeCounter++}`,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => toAttribute(k, v)),
    });
  }

  /** The node that writes `value`, or undefined for graph inputs and initializers. */
  producerOf(value: string): onnx.INodeProto | undefined {
    for (let i = this.nodes.length - 1; i >= 0; i--) if (this.nodes[i].output?.includes(value)) return this.nodes[i];
    return undefined;
  }

  constant(values: ArrayLike<number>, dims: number[], dtype: OnnxConstDType, hint = 'const', exactName?: string): string {
    const name = exactName ?? this.temp(hint);
    this.used.add(name);
    this.initializers.push({ name, dims, dataType: DTYPE[dtype], rawData: rawBytes(values, dtype) });
    return name;
  }
}

function permute(data: Float32Array, dims: number[], perm: number[]): { data: Float32Array; dims: number[] } {
  const outDims = perm.map((p) => dims[p]);
  const inStrides = dims.map((_, i) => dims.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(data.length);
  const idx = new Array(dims.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let k = 0; k < perm.length; k++) src += idx[k] * inStrides[perm[k]];
    out[o] = data[src];
    for (let k = perm.length - 1; k >= 0; k--) {
      if (++idx[k] < outDims[k]) break;
      idx[k] = 0;
    }
  }
  return { data: out, dims: outDims };
}

function valueInfo(name: string, info: TensorInfo): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: DTYPE[info.dtype],
        shape: { dim: info.shape.map((d, i) => (d === -1 ? { dimParam: i === 0 ? 'batch' : `d${i}` } : { dimValue: d })) },
      },
    },
  };
}

/**
 * Exports a graph with its weights to an ONNX model (bytes). Each op maps itself through its `onnx`
 * function; masks are baked into the weights; requested taps become extra outputs.
 */
export function exportOnnx(graph: Graph, params: ParamLookup, options: OnnxExportOptions = {}): Uint8Array {
  if ((options.foldBatchNorm ?? true) && params instanceof ParamStore && graph.nodes.some((n) => n.op === 'batchnorm')) {
    const read = new Set([...(options.outputs ?? []), ...(options.extraOutputs ?? [])]);
    const folded = foldBatchNorm(graph, params, read);
    try {
      return exportOnnx(folded.graph, folded.params, { ...options, foldBatchNorm: false });
    } finally {
      folded.params.dispose();
    }
  }
  if (options.poolBeforeBias ?? true) graph = poolBeforeBias(graph, new Set([...(options.outputs ?? []), ...(options.extraOutputs ?? [])]));
  const opset = options.opset ?? 17;
  const constants = options.constantInputs ?? {};
  checkConstantInputs(graph, constants);
  const builder = new OnnxModelBuilder(opset);
  const infoOf = new Map<string, TensorInfo>([...graph.inputs.map((i) => [i.name, i] as const), ...graph.params.map((p) => [p.name, p] as const), ...Object.entries(graph.values)]);
  const paramNames = new Set(graph.params.map((p) => p.name));
  for (const name of infoOf.keys()) builder.reserve(name);
  const hostData = new Map<string, Float32Array>();
  const paramData = (name: string): Float32Array => {
    let d = hostData.get(name);
    if (!d) {
      const mask = options.masks?.get(name);
      d = tf.tidy(() => (mask ? tf.mul(params.get(name), mask) : params.get(name)).dataSync() as Float32Array);
      hostData.set(name, Float32Array.from(d));
    }
    return hostData.get(name)!;
  };
  const paramNamesEmitted = new Map<string, string>();
  const emitParam = (name: string, perm?: number[]): string => {
    const key = `${name}|${perm?.join(',') ?? ''}`;
    const hit = paramNamesEmitted.get(key);
    if (hit) return hit;
    const dims = infoOf.get(name)!.shape;
    const { data, dims: outDims } = perm ? permute(paramData(name), dims, perm) : { data: paramData(name), dims };
    const hooked = options.paramHook?.({ name, data, dims: outDims, perm, builder });
    const out = hooked ?? builder.constant(data, outDims, 'float32', name, perm ? builder.temp(`${name}_onnx`) : name);
    paramNamesEmitted.set(key, out);
    return out;
  };
  const rename = new Map<string, string>();
  const inputNames = new Set(graph.inputs.map((i) => i.name));
  const hookedInputs = new Set<string>();
  const onnxName = (v: string) => {
    if (v === '') return '';
    if (paramNames.has(v)) return emitParam(v);
    // A graph input meets the activation hook at its first use, so unread inputs gain no nodes.
    if (inputNames.has(v) && !hookedInputs.has(v)) {
      hookedInputs.add(v);
      const fixed = constants[v];
      if (fixed) {
        // Integers that fit 16 bits are stored at half the bytes, widened by a Cast onnxruntime folds at load.
        if (fixed.data instanceof Int32Array && fixed.data.every((x) => x >= -32768 && x <= 32767)) {
          builder.add('Cast', [builder.constant(fixed.data, [...fixed.dims], 'int16', `${v}_int16`)], [v], { to: DTYPE.int32 });
        } else {
          builder.constant(fixed.data, [...fixed.dims], fixed.data instanceof Int32Array ? 'int32' : 'float32', v, v);
        }
        return v;
      }
      const replaced = options.activationHook?.({ value: v, builder });
      if (replaced) rename.set(v, replaced);
    }
    return rename.get(v) ?? v;
  };

  const baseOutputs = options.outputs ?? graph.outputs;
  const outputNames = [...baseOutputs, ...(options.extraOutputs ?? []).filter((t) => !baseOutputs.includes(t))];
  const usedInputs = new Set<string>();
  for (const node of nodesNeeded(graph, outputNames)) {
    node.inputs.forEach((v) => usedInputs.add(v));
    const op = getOp(node.op);
    const attrs = parseAttrs(op, node);
    const emitter: OnnxNodeEmitter = {
      opset,
      node,
      input: (i) => onnxName(node.inputs[i] ?? ''),
      output: (i) => node.outputs[i],
      inputInfo: (i) => (node.inputs[i] ? infoOf.get(node.inputs[i]) : undefined),
      outputInfo: (i) => infoOf.get(node.outputs[i])!,
      isConst: (i) => paramNames.has(node.inputs[i]),
      fixedInput: (i) => constants[node.inputs[i]]?.data,
      constInput: (i, perm) => {
        if (paramNames.has(node.inputs[i])) return emitParam(node.inputs[i], perm);
        if (!perm) return onnxName(node.inputs[i]);
        const out = builder.temp('perm');
        builder.add('Transpose', [onnxName(node.inputs[i])], [out], { perm });
        return out;
      },
      add: (t, i, o, a) => builder.add(t, i, o, a),
      constant: (v, d, t, h) => builder.constant(v, d, t, h),
      temp: (h) => builder.temp(h),
    };
    try {
      op.onnx(emitter, attrs);
    } catch (e) {
      throw new BevzipError(ERROR_CODES.ONNX_EXPORT, `${nodeLabel(node)}: cannot export to ONNX opset ${opset}: ${(e as Error).message}`, { cause: e });
    }
    for (const o of node.outputs) {
      const replaced = options.activationHook?.({ value: o, builder });
      if (replaced) rename.set(o, replaced);
    }
  }
  const outputs: onnx.IValueInfoProto[] = [];
  for (const o of outputNames) {
    const info = infoOf.get(o);
    if (!info) throw new BevzipError(ERROR_CODES.UNKNOWN_VALUE, `cannot export output '${o}': graph '${graph.name}' has no such value`);
    // Outputs keep their IR names (the value before any activation hook), so callers read them by name.
    outputs.push(valueInfo(o, info));
  }
  const model = onnx.ModelProto.create({
    // INT4 tensors need IR version 10.
    irVersion: options.irVersion ?? (opset >= 21 || builder.initializers.some((t) => t.dataType === DTYPE.int4) ? 10 : 8),
    producerName: options.producer ?? 'bevzip',
    producerVersion: '0.1.0',
    // onnxruntime's contrib ops (com.microsoft) when a rewrite used one, e.g. INT4 DequantizeLinear.
    opsetImport: [{ domain: '', version: opset }, ...(builder.nodes.some((n) => n.domain === 'com.microsoft') ? [{ domain: 'com.microsoft', version: 1 }] : [])],
    graph: {
      name: graph.name,
      node: builder.nodes,
      initializer: builder.initializers,
      // Inputs the exported outputs do not read are left out, so callers need not feed them.
      input: graph.inputs.filter((i) => !constants[i.name] && (usedInputs.has(i.name) || outputNames.includes(i.name))).map((i) => valueInfo(i.name, i)),
      output: outputs,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

export type { NodeDef };
