import type { NodeDef, TensorInfo } from '../graph';

/**
 * An ONNX attribute value. Plain numbers are ints and plain number arrays ints; floats must be
 * spelled `{ f }` / `{ floats }` so that an integral float such as 1.0 is never exported as an int.
 */
export type OnnxAttrValue =
  | number
  | number[]
  | string
  | { f: number }
  | { floats: number[] }
  | { tensor: { dtype: OnnxConstDType; dims: number[]; values: ArrayLike<number> } };

/** `int4` (opset 21, IR version 10) is packed two values a byte, the first in the low nibble. */
export type OnnxConstDType = 'float32' | 'int32' | 'int64' | 'int16' | 'uint8' | 'int8' | 'int4' | 'bool';

/** What an op's ONNX mapping sees: its node's names and shapes, and a way to add ONNX nodes. */
export interface OnnxNodeEmitter {
  readonly opset: number;
  readonly node: NodeDef;
  /** ONNX value name of IR input `i` ('' when the optional input is absent). */
  input(i: number): string;
  /** ONNX value name of IR output `i`. */
  output(i: number): string;
  inputInfo(i: number): TensorInfo | undefined;
  outputInfo(i: number): TensorInfo;
  /** True when input `i` is a param, i.e. a constant at export time. */
  isConst(i: number): boolean;
  /** Host values of input `i` when the export fixes that graph input (`constantInputs`), else undefined. */
  fixedInput(i: number): Int32Array | Float32Array | undefined;
  /**
   * Input `i` as an initializer permuted by `perm` on the host (no runtime Transpose), so weights
   * reach Conv/Gemm in ONNX layout and stay foldable into quantized kernels. Falls back to a
   * Transpose node when the input is not a param.
   */
  constInput(i: number, perm?: number[]): string;
  /** Adds an ONNX node. */
  add(opType: string, inputs: string[], outputs: string[], attrs?: Record<string, OnnxAttrValue>): void;
  /** Adds an initializer and returns its name. */
  constant(values: ArrayLike<number>, dims: number[], dtype: OnnxConstDType, hint?: string): string;
  /** A fresh intermediate value name. */
  temp(hint: string): string;
}

/** NHWC → NCHW and back: the IR is channels-last (tfjs), ONNX Conv/Pool/Resize are channels-first. */
export const NHWC_TO_NCHW = [0, 3, 1, 2];
export const NCHW_TO_NHWC = [0, 2, 3, 1];

/** Emits `Transpose(x, perm)` and returns the new value name. */
export function transposed(emit: OnnxNodeEmitter, x: string, perm: number[], hint = 'transposed'): string {
  const out = emit.temp(hint);
  emit.add('Transpose', [x], [out], { perm });
  return out;
}

/**
 * Wraps a channels-first ONNX op for the channels-last IR: transposes input 0 to NCHW, lets `body`
 * emit the op from that name into a temp, then transposes the result back into IR output 0.
 * onnxruntime's transpose optimizer cancels the back-to-back pairs between consecutive layers.
 */
export function emitChannelsFirst(emit: OnnxNodeEmitter, body: (xNchw: string, yNchw: string) => void): void {
  const xNchw = transposed(emit, emit.input(0), NHWC_TO_NCHW, 'nchw');
  const yNchw = emit.temp('nchw_out');
  body(xNchw, yNchw);
  emit.add('Transpose', [yNchw], [emit.output(0)], { perm: NCHW_TO_NHWC });
}
