import * as tf from '@tensorflow/tfjs';
import { builtInWasmKernels } from './leading-axis-reduce';

type Args = { inputs: tf.NamedTensorInfoMap; backend: Pick<tf.KernelBackend, 'incRef'>; attrs?: tf.NamedAttrMap };

/**
 * `Identity` (and `Cast` to the same dtype) as a second reference to the input's buffer, as the
 * `cpu` backend and the wasm `Reshape` already do; the built-in wasm kernels copy it. tfjs-core
 * clones every tensor a gradient saves, so in training this copy ran ~590 times a step (17 M
 * values on the tiny fusion model). Buffers are never written after creation (a variable's assign
 * takes a new buffer), so sharing one is safe. String tensors keep the built-in kernel.
 */
function share(x: tf.TensorInfo, backend: Args['backend']): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}

function builtIn(name: string): tf.KernelConfig {
  const config = builtInWasmKernels.get(name);
  if (config === undefined) throw new Error(`the built-in wasm kernel '${name}' was not recorded at registration`);
  return config;
}

function identity(args: Args): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return builtIn(tf.Identity).kernelFunc(args as never) as tf.TensorInfo;
  return share(x, args.backend);
}

function cast(args: Args): tf.TensorInfo {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { dtype } = args.attrs as unknown as tf.CastAttrs;
  if (x.dtype === 'string' || dtype !== x.dtype) return builtIn(tf.Cast).kernelFunc(args as never) as tf.TensorInfo;
  return share(x, args.backend);
}

/** `Identity` on wasm without the copy. */
export const identityShareConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: identity as unknown as tf.KernelFunc,
};

/** `Cast` on wasm: same-dtype casts share the buffer, the others go to the built-in kernel. */
export const castShareConfig: tf.KernelConfig = {
  kernelName: tf.Cast,
  backendName: 'wasm',
  kernelFunc: cast as unknown as tf.KernelFunc,
};
