import * as tf from '@tensorflow/tfjs';
import { WasmBackendHandle, withScope } from './kernel-scope';

/**
 * `UnsortedSegmentSum` in linear time through the wasm `ScatterNd` kernel, which adds rows
 * that share an index. `segmentIds` (shape a prefix of `x`'s) are read to JS once to check
 * them: ids outside [0, numSegments) are dropped, as TensorFlow does, by sending them to a
 * spare row that is sliced off afterwards.
 */
export function unsortedSegmentSum(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: WasmBackendHandle;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const numSegments = (args.attrs as unknown as tf.UnsortedSegmentSumAttrs).numSegments;
  const idsRank = segmentIds.shape.length;
  if (segmentIds.shape.some((d, i) => d !== x.shape[i])) {
    throw new Error(
      `UnsortedSegmentSum on wasm: segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}]`,
    );
  }
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new Error(`UnsortedSegmentSum on wasm: numSegments must be a non-negative integer, got ${numSegments}`);
  }
  const rows = tf.util.sizeFromShape(segmentIds.shape);
  const rowShape = x.shape.slice(idsRank);
  const ids = args.backend.readSync(segmentIds.dataId) as Int32Array;
  let outOfRange = false;
  for (let i = 0; i < rows; i++) {
    if (!(ids[i] >= 0 && ids[i] < numSegments)) {
      outOfRange = true;
      break;
    }
  }
  return withScope(args.backend, (s) => {
    const updates = s.reshape(x, [rows, ...rowShape]);
    if (!outOfRange) {
      const indices = s.reshape(segmentIds, [rows, 1]);
      return s.run('ScatterNd', { indices, updates }, { shape: [numSegments, ...rowShape] });
    }
    const remapped = new Int32Array(rows);
    for (let i = 0; i < rows; i++) remapped[i] = ids[i] >= 0 && ids[i] < numSegments ? ids[i] : numSegments;
    const indices = s.track({
      dataId: args.backend.write(remapped, [rows, 1], 'int32'),
      shape: [rows, 1],
      dtype: 'int32',
    });
    const withSpare = s.run('ScatterNd', { indices, updates }, { shape: [numSegments + 1, ...rowShape] });
    return s.padOrCrop(withSpare, [[0, -1], ...rowShape.map((): [number, number] => [0, 0])]);
  });
}

/** Kernel config for `UnsortedSegmentSum` on wasm (missing from 4.22; `gather`'s gradient needs it). */
export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
};
