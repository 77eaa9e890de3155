import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES } from '@bevzip/ir';
import {
  defaultAttribute,
  egoDetectionToEvalBox,
  type EgoDetection,
  type EvalBox,
  type Pose,
} from '@bevzip/driving-data';
import { headGrid, REG_CHANNELS, type TaskConfig } from './config';

/** A dense NHWC array from any runtime (tfjs tensor data, onnxruntime output). */
export interface DenseArray {
  data: Float32Array;
  shape: readonly number[];
}

/** A model output as a tfjs tensor or a plain dense array. */
export type OutputLike = tf.Tensor | DenseArray;

/** Host copy of an output; a tensor is read synchronously and left to its owner. */
export function toDense(x: OutputLike): DenseArray {
  if (x instanceof tf.Tensor)
    return { data: Float32Array.from(x.dataSync() as ArrayLike<number>), shape: x.shape };
  return x;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function expectShape(name: string, a: DenseArray, expected: number[]): void {
  if (
    a.shape.length !== 4 ||
    a.shape.some((d, i) => i > 0 && d !== expected[i]) ||
    a.data.length !== a.shape.reduce((p, d) => p * d, 1)
  ) {
    throw new BevzipError(
      ERROR_CODES.SHAPE_MISMATCH,
      `decode: output '${name}' has shape [${a.shape}], expected [B, ${expected.slice(1).join(', ')}]`,
    );
  }
}

/**
 * Decodes CenterPoint outputs into ego-frame boxes per sample: heat-map sigmoid, 3×3 local-maximum
 * suppression (a cell survives when it equals the maximum of its neighbourhood, as
 * `maxPool(p) == p`), the `topK` best cells over all classes, scores > `scoreThreshold`; then
 * x = xmin + (i + dx)·Δs (row i ↔ x), y = ymin + (j + dy)·Δs, z, size = exp(log l/w/h),
 * yaw = atan2(sin, cos), velocity (vx, vy). Attributes follow `defaultAttribute`.
 * Detections come in descending score (ties by cell, then class).
 */
export function decodeDetections(
  heatmapLogits: OutputLike,
  reg: OutputLike,
  cfg: Pick<TaskConfig, 'classes' | 'grid' | 'headStride' | 'decode'>,
): EgoDetection[][] {
  const g = headGrid(cfg);
  const [rows, cols] = g.size;
  const k = cfg.classes.length;
  const r = REG_CHANNELS.length;
  const hm = toDense(heatmapLogits);
  const rg = toDense(reg);
  expectShape('heatmap', hm, [0, rows, cols, k]);
  expectShape('reg', rg, [0, rows, cols, r]);
  if (rg.shape[0] !== hm.shape[0]) {
    throw new BevzipError(
      ERROR_CODES.SHAPE_MISMATCH,
      `decode: heatmap batch ${hm.shape[0]} differs from reg batch ${rg.shape[0]}`,
    );
  }
  const per = rows * cols * k;
  const out: EgoDetection[][] = [];
  for (let b = 0; b < hm.shape[0]; b++) {
    const prob = new Float64Array(per);
    for (let n = 0; n < per; n++) prob[n] = sigmoid(hm.data[b * per + n]);
    const candidates: { score: number; n: number }[] = [];
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        for (let c = 0; c < k; c++) {
          const n = (i * cols + j) * k + c;
          const p = prob[n];
          if (!(p > cfg.decode.scoreThreshold)) continue;
          let peak = true;
          for (let a = Math.max(0, i - 1); peak && a <= Math.min(rows - 1, i + 1); a++) {
            for (let d = Math.max(0, j - 1); d <= Math.min(cols - 1, j + 1); d++) {
              if (prob[(a * cols + d) * k + c] > p) {
                peak = false;
                break;
              }
            }
          }
          if (peak) candidates.push({ score: p, n });
        }
      }
    }
    // Thresholding before top-k selects the same boxes as top-k then threshold, with less sorting.
    candidates.sort((x, y) => y.score - x.score || x.n - y.n);
    const dets: EgoDetection[] = [];
    for (const { score, n } of candidates.slice(0, cfg.decode.topK)) {
      const c = n % k;
      const cell = (n - c) / k;
      const i = Math.floor(cell / cols);
      const j = cell % cols;
      const o = (b * rows * cols + cell) * r;
      const v = rg.data.subarray(o, o + r);
      const name = cfg.classes[c];
      const velocity: [number, number] = [v[8], v[9]];
      dets.push({
        center: [g.xmin + (i + v[0]) * g.cell, g.ymin + (j + v[1]) * g.cell, v[2]],
        size: [Math.exp(v[3]), Math.exp(v[4]), Math.exp(v[5])],
        yaw: Math.atan2(v[6], v[7]),
        velocity,
        detectionName: name,
        score,
        attributeName: defaultAttribute(name, velocity),
      });
    }
    out.push(dets);
  }
  return out;
}

/** Ego-frame detections of one sample as global-frame `EvalBox`es (see `egoDetectionToEvalBox`). */
export function detectionsToEvalBoxes(
  dets: readonly EgoDetection[],
  sampleToken: string,
  egoPose: Pose,
): EvalBox[] {
  return dets.map((d) => egoDetectionToEvalBox(d, sampleToken, egoPose));
}
