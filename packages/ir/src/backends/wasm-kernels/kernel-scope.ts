import * as tf from '@tensorflow/tfjs';

/** Backend handle a wasm kernel receives; only data disposal and reads are used here. */
export type WasmBackendHandle = Pick<tf.KernelBackend, 'disposeData' | 'readSync' | 'write'>;

/** One axis of a pad-or-crop: a negative amount removes elements instead of adding zeros. */
export type PadOrCrop = [before: number, after: number];

/**
 * Runs the original wasm kernels inside a kernel of ours and frees every intermediate it
 * created, except the one handed back with {@link KernelScope.keep}.
 */
export class KernelScope {
  private readonly temps: tf.TensorInfo[] = [];

  constructor(readonly backend: WasmBackendHandle) {}

  /** Calls the wasm kernel `name` and tracks its output as an intermediate. */
  run(name: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
    const config = tf.getKernel(name, 'wasm');
    if (config === undefined) {
      throw new Error(`wasm kernel '${name}' is not registered: load @tensorflow/tfjs-backend-wasm first`);
    }
    const out = config.kernelFunc({ inputs, backend: this.backend, attrs }) as tf.TensorInfo;
    this.temps.push(out);
    return out;
  }

  /** Tracks a tensor made outside {@link run} (for example with `backend.write`). */
  track(info: tf.TensorInfo): tf.TensorInfo {
    this.temps.push(info);
    return info;
  }

  /** Removes `info` from the intermediates so it survives {@link dispose}. */
  keep(info: tf.TensorInfo): tf.TensorInfo {
    const i = this.temps.indexOf(info);
    if (i < 0) throw new Error('KernelScope.keep: the result was not created in this scope');
    this.temps.splice(i, 1);
    return info;
  }

  dispose(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }

  reshape(x: tf.TensorInfo, shape: number[]): tf.TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  sum(x: tf.TensorInfo, axis: number[]): tf.TensorInfo {
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  reverse(x: tf.TensorInfo, dims: number[]): tf.TensorInfo {
    return this.run('Reverse', { x }, { dims });
  }

  /** Zero-pads positive amounts and crops negative ones; returns `x` itself when all are 0. */
  padOrCrop(x: tf.TensorInfo, amounts: PadOrCrop[]): tf.TensorInfo {
    let out = x;
    if (amounts.some(([b, a]) => b < 0 || a < 0)) {
      const begin = amounts.map(([b]) => Math.max(0, -b));
      const size = amounts.map(([b, a], i) => x.shape[i] - Math.max(0, -b) - Math.max(0, -a));
      out = this.run('Slice', { x: out }, { begin, size });
    }
    if (amounts.some(([b, a]) => b > 0 || a > 0)) {
      const paddings = amounts.map(([b, a]) => [Math.max(0, b), Math.max(0, a)]);
      out = this.run('PadV2', { x: out }, { paddings, constantValue: 0 });
    }
    return out;
  }
}

/** Runs `body` with a fresh scope and frees its intermediates even when `body` throws. */
export function withScope(backend: WasmBackendHandle, body: (s: KernelScope) => tf.TensorInfo): tf.TensorInfo {
  const scope = new KernelScope(backend);
  try {
    return scope.keep(body(scope));
  } finally {
    scope.dispose();
  }
}
