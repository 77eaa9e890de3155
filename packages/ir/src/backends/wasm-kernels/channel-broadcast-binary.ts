import * as tf from '@tensorflow/tfjs';
import { WasmBackendHandle, withScope } from './kernel-scope';
import { builtInWasmKernels } from './leading-axis-reduce';

// Below this many output values the built-in kernel is as fast (the widened vector costs a write).
const MIN_SIZE = 16384;
// Row width aimed at: XNNPACK's broadcasting binary kernels run one call per row, so [R, 32] rows
// cost 2–3.5× a same-shape op on the pillar features; rows of 256–1024 values measured as fast as it.
const TARGET_WIDTH = 1024;

type Args = { inputs: tf.NamedTensorInfoMap; backend: WasmBackendHandle; attrs?: tf.NamedAttrMap };

/**
 * How to run `a op b` as rows of `k·C` values when one operand is a per-channel vector (all of its
 * axes but the last are 1, its last axis is the other operand's last axis C) and the other has at
 * least {@link MIN_SIZE} values: which side the vector is on and the widening factor k (a divisor
 * of the row count). Undefined when the shapes do not fit or no k > 1 divides the rows.
 */
export function channelBroadcastPlan(aShape: number[], bShape: number[]): { vector: 'a' | 'b'; k: number } | undefined {
  const fits = (vec: number[], big: number[]) => {
    const c = big[big.length - 1];
    return (
      big.length >= 2 &&
      vec.length >= 1 &&
      vec.length <= big.length &&
      vec[vec.length - 1] === c &&
      vec.slice(0, -1).every((d) => d === 1) &&
      tf.util.sizeFromShape(big) >= MIN_SIZE
    );
  };
  const vector = fits(bShape, aShape) ? 'b' : fits(aShape, bShape) ? 'a' : undefined;
  if (vector === undefined) return undefined;
  const big = vector === 'b' ? aShape : bShape;
  const c = big[big.length - 1];
  const rows = tf.util.sizeFromShape(big) / c;
  for (let k = Math.min(rows, Math.floor(TARGET_WIDTH / c)); k > 1; k--) {
    if (rows % k === 0) return { vector, k };
  }
  return undefined;
}

/**
 * A float32 binary kernel whose per-channel broadcast (`[..., C] op [C]`, either side) runs on
 * wide rows: the big operand is viewed as [R/k, k·C] and the vector repeated k times, which gives
 * the same values element for element. Everything else goes to the built-in kernel.
 */
function channelBroadcast(kernelName: 'Multiply' | 'Add' | 'Sub') {
  return (args: Args): tf.TensorInfo => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const builtIn = builtInWasmKernels.get(kernelName);
    if (builtIn === undefined) throw new Error(`the built-in wasm kernel '${kernelName}' was not recorded at registration`);
    const plan = a.dtype === 'float32' && b.dtype === 'float32' ? channelBroadcastPlan(a.shape, b.shape) : undefined;
    if (plan === undefined) return builtIn.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const [vec, big] = plan.vector === 'b' ? [b, a] : [a, b];
    const c = big.shape[big.shape.length - 1];
    return withScope(args.backend, (s) => {
      const values = args.backend.readSync(vec.dataId) as Float32Array;
      const repeated = new Float32Array(plan.k * c);
      for (let r = 0; r < plan.k; r++) repeated.set(values, r * c);
      const width = plan.k * c;
      const wide = s.track({ dataId: args.backend.write(repeated, [width], 'float32'), shape: [width], dtype: 'float32' });
      const rows = s.reshape(big, [big.shape.reduce((p, q) => p * q, 1) / width, width]);
      const inputs = plan.vector === 'b' ? { a: rows, b: wide } : { a: wide, b: rows };
      const out = s.track(builtIn.kernelFunc({ inputs, backend: args.backend, attrs: args.attrs ?? {} } as never) as tf.TensorInfo);
      return s.reshape(out, big.shape);
    });
  };
}

const config = (kernelName: 'Multiply' | 'Add' | 'Sub'): tf.KernelConfig => ({
  kernelName,
  backendName: 'wasm',
  kernelFunc: channelBroadcast(kernelName) as unknown as tf.KernelFunc,
});

/** `Multiply`, `Add` and `Sub` on wasm with the wide-row path for per-channel broadcasts. */
export const multiplyChannelConfig = config('Multiply');
export const addChannelConfig = config('Add');
export const subChannelConfig = config('Sub');
