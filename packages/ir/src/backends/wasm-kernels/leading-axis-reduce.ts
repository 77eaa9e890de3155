import * as tf from '@tensorflow/tfjs';
import { WasmBackendHandle, withScope } from './kernel-scope';

/** The wasm kernels that were registered before ours replaced them, by name: the fallbacks here, and what unregistering puts back. */
export const builtInWasmKernels = new Map<string, tf.KernelConfig>();

// Below this many rows the built-in kernel's transpose is cheap enough.
const MIN_ROWS = 256;
// Depthwise windows [height, width] tried in order; 3×3 (XNNPACK's 9-tap unipass kernel) measured
// 3–8× faster than the built-in Sum on the pillar features, 2×2 is the fallback for powers of two.
// Taller 1-D windows (8–64 taps) were 2–4× slower than 3×3.
const WINDOWS: readonly [number, number][] = [
  [3, 3],
  [2, 2],
];

const windowFor = (rows: number) => WINDOWS.find(([h, w]) => rows % (h * w) === 0);

// One persistent ones-filter per backend, block and channel count: XNNPACK keeps the operator (and
// its packed filter) keyed by the filter's data id, so a fresh filter per call would repack it.
const onesFilters = new WeakMap<object, Map<string, tf.TensorInfo>>();

function onesFilter(backend: WasmBackendHandle, [h, w]: [number, number], channels: number): tf.TensorInfo {
  let perBackend = onesFilters.get(backend);
  if (!perBackend) onesFilters.set(backend, (perBackend = new Map()));
  const key = `${h}x${w}x${channels}`;
  let filter = perBackend.get(key);
  if (!filter) {
    const shape = [h, w, channels, 1];
    filter = { dataId: backend.write(new Float32Array(h * w * channels).fill(1), shape, 'float32'), shape, dtype: 'float32' };
    perBackend.set(key, filter);
  }
  return filter;
}

/** Number of reduced leading axes when `axis` is exactly 0…k−1 with k below the rank, else 0. */
export function leadingAxes(shape: number[], axis: number | number[]): number {
  const axes = [...new Set(tf.util.parseAxisParam(axis, shape))].sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= shape.length) return 0;
  return axes.every((a, i) => a === i) ? axes.length : 0;
}

function builtIn(name: string): tf.KernelConfig {
  const config = builtInWasmKernels.get(name);
  if (config === undefined) throw new Error(`the built-in wasm kernel '${name}' was not recorded at registration`);
  return config;
}

/**
 * `Sum` / `Mean` over leading axes of a float32 tensor. The built-in wasm kernels transpose the
 * reduced axes to the end and then loop scalar-wise (8 ms for the [2, 3072, 12, 32] pillar features
 * over axes 0–2). Here x is viewed as R rows of C channels, laid out as an image [1, R/w, w, C], and a
 * depthwise XNNPACK convolution with an h×w ones filter and stride h×w adds h·w rows at a time,
 * repeated while the row count allows; the few rows left go to the built-in kernel. Other reductions go to the built-in kernel unchanged.
 */
function reduceLeading(kernelName: 'Sum' | 'Mean') {
  return (args: { inputs: tf.NamedTensorInfoMap; backend: WasmBackendHandle; attrs?: tf.NamedAttrMap }): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const k = x.dtype === 'float32' ? leadingAxes(x.shape, axis) : 0;
    const rows = tf.util.sizeFromShape(x.shape.slice(0, k));
    const rest = x.shape.slice(k);
    const channels = tf.util.sizeFromShape(rest);
    if (k === 0 || rows < MIN_ROWS || channels === 0 || windowFor(rows) === undefined) {
      return builtIn(kernelName).kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    }
    return withScope(args.backend, (s) => {
      let left = rows;
      let partial = x;
      for (;;) {
        const window = windowFor(left);
        if (window === undefined || left < MIN_ROWS) break;
        const [h, w] = window;
        partial = s.run(
          'DepthwiseConv2dNative',
          { x: s.reshape(partial, [1, left / w, w, channels]), filter: onesFilter(args.backend, window, channels) },
          { strides: [h, w], pad: 'valid', dilations: [1, 1], dataFormat: 'NHWC' },
        );
        left /= h * w;
      }
      const sumAttrs = { axis: [0], keepDims: false };
      const flat = s.reshape(partial, [left, channels]);
      let total = s.track(builtIn('Sum').kernelFunc({ inputs: { x: flat }, backend: args.backend, attrs: sumAttrs } as never) as tf.TensorInfo);
      if (kernelName === 'Mean') {
        const count = s.track({ dataId: args.backend.write(new Float32Array([rows]), [], 'float32'), shape: [], dtype: 'float32' });
        total = s.run('RealDiv', { a: total, b: count });
      }
      return s.reshape(total, keepDims ? [...x.shape.slice(0, k).map(() => 1), ...rest] : rest);
    });
  };
}

/** `Sum` on wasm with the fast path for leading-axis reductions. */
export const sumLeadingConfig: tf.KernelConfig = {
  kernelName: tf.Sum,
  backendName: 'wasm',
  kernelFunc: reduceLeading('Sum') as unknown as tf.KernelFunc,
};

/** `Mean` on wasm with the fast path for leading-axis reductions. */
export const meanLeadingConfig: tf.KernelConfig = {
  kernelName: tf.Mean,
  backendName: 'wasm',
  kernelFunc: reduceLeading('Mean') as unknown as tf.KernelFunc,
};
