import * as tf from '@tensorflow/tfjs';
import { builtInWasmKernels } from './leading-axis-reduce';

/** The wasm backend's own heap access: outputs are written through views, no copies. */
interface WasmHeap {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
}

type Args = { inputs: tf.NamedTensorInfoMap; backend: WasmHeap; attrs?: tf.NamedAttrMap };

function builtIn(name: string): tf.KernelConfig {
  const config = builtInWasmKernels.get(name);
  if (config === undefined) throw new Error(`the built-in wasm kernel '${name}' was not recorded at registration`);
  return config;
}

/**
 * Copies the box `begin`/`size` of x into a new tensor, as runs of contiguous values read through a
 * view of the wasm heap. The built-in wasm Slice first copies all of x out of the heap
 * (`readSync`), so every slice, and every output of SplitV, cost a full copy of its input: 62
 * slices of a 311 k-value vector took 37 ms.
 */
function sliceBox(backend: WasmHeap, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const rank = x.shape.length;
  // makeOutput may grow the heap, which detaches earlier views: take them after it.
  const out = backend.makeOutput(size, x.dtype);
  const total = tf.util.sizeFromShape(size);
  if (total === 0) return out;
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  if (rank === 0) {
    dst.set(src.subarray(0, 1));
    return out;
  }
  const strides = [...tf.util.computeStrides(x.shape), 1];
  // Axes after k are taken whole, so each index over axes < k is one run of size[k]·strides[k] values.
  let k = rank - 1;
  while (k > 0 && begin[k] === 0 && size[k] === x.shape[k]) k--;
  const run = size[k] * strides[k];
  const runs = total / run;
  const index = new Array<number>(k).fill(0);
  for (let r = 0, o = 0; r < runs; r++, o += run) {
    let offset = begin[k] * strides[k];
    for (let a = 0; a < k; a++) offset += (begin[a] + index[a]) * strides[a];
    dst.set(src.subarray(offset, offset + run), o);
    for (let a = k - 1; a >= 0; a--) {
      if (++index[a] < size[a]) break;
      index[a] = 0;
    }
  }
  return out;
}

function slice(args: Args): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return builtIn(tf.Slice).kernelFunc(args as never) as tf.TensorInfo;
  const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
  const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  return sliceBox(args.backend, x, b, s);
}

function splitV(args: Args): tf.TensorInfo[] {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return builtIn(tf.SplitV).kernelFunc(args as never) as tf.TensorInfo[];
  const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs;
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((n) => {
    const size = x.shape.slice();
    size[ax] = n;
    const part = sliceBox(args.backend, x, begin, size);
    begin[ax] += n;
    return part;
  });
}

/** `Slice` on wasm reading through a heap view. */
export const sliceViewConfig: tf.KernelConfig = { kernelName: tf.Slice, backendName: 'wasm', kernelFunc: slice as unknown as tf.KernelFunc };

/** `SplitV` on wasm, each part read through a heap view. */
export const splitVViewConfig: tf.KernelConfig = { kernelName: tf.SplitV, backendName: 'wasm', kernelFunc: splitV as unknown as tf.KernelFunc };
