import { exportOnnx, type Graph, type OnnxExportOptions, type OnnxRewrite, type ParamLookup } from '@bevzip/ir';
import type * as tf from '@tensorflow/tfjs';
import { activationScale, type QuantState } from './calibration';
import { enabledSubset } from './plan';
import { intRange, roundHalfEven } from './quantizer';

/** How one weight was stored in the exported model. */
export interface QdqWeightReport {
  param: string;
  bits: number;
  /** `int4`: packed two a byte; otherwise int8 codes, restricted to the k-bit range below 8 bits. */
  storage: 'int8' | 'int8 (k-bit range)' | 'int4';
  channels: number;
}

/**
 * How weights of 4 bits or fewer are stored. `int8`: int8 codes in the k-bit range, read by the
 * standard DequantizeLinear, so onnxruntime fuses the layers into integer kernels. `int4`: packed
 * two codes a byte and read by onnxruntime's `com.microsoft` DequantizeLinear (the standard INT4
 * form needs opset 21, whose transpose optimisation in onnxruntime 1.30 mistypes moved uint8
 * QuantizeLinear nodes); a file only onnxruntime reads, whose layers dequantize to float convs.
 */
export type WeightStorage = 'int8' | 'int4';

/** The storage a k-bit weight gets. */
export function weightStorageFor(bits: number, storage: WeightStorage): QdqWeightReport['storage'] {
  if (bits <= 4 && storage === 'int4') return 'int4';
  return bits === 8 ? 'int8' : 'int8 (k-bit range)';
}

export interface QdqExportOptions extends Pick<OnnxExportOptions, 'outputs' | 'extraOutputs' | 'opset'> {
  /** Default 'int8'. */
  weightStorage?: WeightStorage;
  /** Param masks baked in before quantization (pruned weights quantize to code 0). */
  masks?: ReadonlyMap<string, tf.Tensor>;
}

const f32 = Math.fround;

/** Per-channel int8 codes and float32 scales along `axis`, computed in float32 as the interpreter does. */
export function quantizeWeightHost(data: Float32Array, dims: readonly number[], axis: number, bits: number): { codes: Int8Array; scales: Float32Array } {
  const { qmin, qmax } = intRange(bits, true);
  const channels = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const absMax = new Float32Array(channels);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    absMax[c] = Math.max(absMax[c], Math.abs(data[i]));
  }
  const scales = absMax.map((m) => (m > 0 ? f32(f32(m * 2) / (2 ** bits - 1)) : 1));
  const codes = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    codes[i] = Math.min(qmax, Math.max(qmin, roundHalfEven(f32(data[i] / scales[c]))));
  }
  return { codes, scales };
}

/**
 * The QDQ rewrite of a quantized model, for the ONNX serializer: each quantized weight becomes an
 * int8 initializer with a per-output-channel DequantizeLinear (axis 0 of Conv's [O, I, kh, kw]
 * layout), each calibrated activation a QuantizeLinear/DequantizeLinear pair (int8, or uint8 for
 * unsigned ranges; when k < 8, then a Clip to the k-bit range and a second pair). Pairs after a
 * channels-first op go before its Transpose back to channels-last. onnxruntime fuses every
 * quantized conv into QLinearConv and every quantized dense into an integer matmul (tested).
 * `weights` fills in as the serializer writes the weights.
 */
export function qdqRewrite(state: QuantState, enabled: readonly string[], options: { weightStorage?: WeightStorage } = {}): { rewrite: OnnxRewrite; weights: QdqWeightReport[] } {
  const { layers, activations } = enabledSubset(state.plan, enabled);
  const byWeight = new Map(layers.map((l) => [l.weight, l]));
  const quantized = new Set(activations.filter((v) => state.ranges[v] !== undefined));
  const weights: QdqWeightReport[] = [];
  const rewrite: OnnxRewrite = {
    paramHook: ({ name, data, dims, perm, builder }) => {
      const layer = byWeight.get(name);
      if (!layer) return undefined;
      const axis = perm ? perm.indexOf(layer.weightAxis) : layer.weightAxis;
      const { codes, scales } = quantizeWeightHost(data, dims, axis, layer.wBits);
      const storage = weightStorageFor(layer.wBits, options.weightStorage ?? 'int8');
      const type = storage === 'int4' ? 'int4' : 'int8';
      const q = builder.constant(codes, dims, type, `${name}_${type}`);
      const s = builder.constant(scales, [scales.length], 'float32', `${name}_scale`);
      const zp = builder.constant(new Int8Array(scales.length), [scales.length], type, `${name}_zero_point`);
      const out = builder.temp(`${name}_dequantized`);
      builder.add('DequantizeLinear', [q, s, zp], [out], { axis }, type === 'int4' ? 'com.microsoft' : '');
      weights.push({ param: name, bits: layer.wBits, storage, channels: scales.length });
      return out;
    },
    activationHook: ({ value, builder }) => {
      if (!quantized.has(value)) return undefined;
      const a = state.plan.activations[value];
      const scale = f32(activationScale(state, value));
      const { qmin, qmax } = intRange(a.bits, a.signed);
      const s = builder.constant([scale], [], 'float32', `${value}_scale`);
      const zp = builder.constant([0], [], a.signed ? 'int8' : 'uint8', `${value}_zero_point`);
      // Per-tensor Q/DQ commutes with a transpose. A channels-first op ends in a Transpose back to
      // the IR's channels-last layout; quantizing before that Transpose puts QuantizeLinear right
      // after the Conv, the pattern onnxruntime fuses into QLinearConv (after a Transpose it cannot).
      const transpose = builder.producerOf(value);
      const hoist = transpose?.opType === 'Transpose' ? transpose : undefined;
      const source = hoist ? hoist.input![0] : value;
      let at = hoist ? builder.nodes.indexOf(hoist) : builder.nodes.length;
      const emit = (op: string, inputs: string[], hint: string, attrs = {}) => {
        const out = builder.temp(`${value}_${hint}`);
        builder.insert(at++, op, inputs, [out], attrs);
        return out;
      };
      const qdq = (x: string) => emit('DequantizeLinear', [emit('QuantizeLinear', [x, s, zp], 'quantized'), s, zp], 'dequantized');
      let dequantized = qdq(source);
      // Below 8 bits the codes are clamped to the k-bit range. The Clip comes after the first pair,
      // on exact multiples of the step, and a second pair re-quantizes losslessly: a Clip between
      // the layer and its QuantizeLinear would keep onnxruntime from fusing the layer.
      if (a.bits < 8) dequantized = qdq(emit('Clip', [dequantized, builder.constant([qmin * scale], [], 'float32', 'clip_min'), builder.constant([qmax * scale], [], 'float32', 'clip_max')], 'clipped'));
      if (!hoist) return dequantized;
      hoist.input![0] = dequantized;
      return undefined;
    },
  };
  return { rewrite, weights };
}

/** Exports a quantized model as QDQ ONNX with {@link qdqRewrite}. */
export function exportQdq(graph: Graph, params: ParamLookup, state: QuantState, enabled: readonly string[], options: QdqExportOptions = {}): { model: Uint8Array; weights: QdqWeightReport[] } {
  const { rewrite, weights } = qdqRewrite(state, enabled, { weightStorage: options.weightStorage });
  const model = exportOnnx(graph, params, { opset: options.opset, outputs: options.outputs, extraOutputs: options.extraOutputs, masks: options.masks, ...rewrite });
  return { model, weights };
}
