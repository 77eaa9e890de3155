import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES } from '@bevzip/ir';
import {
  aggregateDetection,
  detectionFrameTable,
  evaluateDetection,
  filterEvalBoxes,
  framesToGtEvalBoxes,
  MapFrameAccumulator,
  mapIouOf,
  SYNTHETIC_CONFIG,
  type FrameEvaluation,
  type DetectionConfig,
  type DetectionEvalResult,
  type DetectionMetrics,
  type EgoDetection,
  type EvalBoxes,
  type Frame,
  type MapIouResult,
} from '@bevzip/driving-data';
import { disposeBatch, makeBatch } from './batch';
import type { TaskConfig } from './config';
import { decodeDetections, detectionsToEvalBoxes, toDense, type OutputLike } from './decode';

/** What a model returns for a batch: logits for heat map and map, raw regression, NHWC. */
export interface ModelOutputs {
  heatmap: OutputLike;
  reg: OutputLike;
  map?: OutputLike;
}

/**
 * Runs a model on a batch's feeds. Any runtime can serve (the interpreter, onnxruntime, a
 * stub); tensors it returns are disposed by the caller of this function after reading.
 */
export type PredictFn = (feeds: Record<string, tf.Tensor>) => ModelOutputs | Promise<ModelOutputs>;

/** Options of {@link evaluateModel}. */
export interface EvaluateModelOptions {
  /** Frames per forward pass (default 1). */
  batchSize?: number;
  /** nuScenes evaluation settings (default `SYNTHETIC_CONFIG`: every class range 25 m). */
  detectionConfig?: DetectionConfig;
  /** Called after each batch with the number of frames done. */
  onProgress?: (done: number, total: number) => void;
}

/** Metrics of a model over a set of frames. */
export interface ModelEvalResult {
  /** The full nuScenes evaluation over all ten detection classes (absent classes score AP 0). */
  detection: DetectionEvalResult;
  /** mAP, TP errors and NDS re-aggregated over the model's own classes only. */
  classMetrics: DetectionMetrics;
  /**
   * The same over the model's classes that have ground truth after the evaluation's filters (a
   * class without ground truth scores AP 0 and errors 1, which on a small set measures the set
   * rather than the model); undefined when no class has any.
   */
  presentClassMetrics?: DetectionMetrics;
  /** Ground-truth boxes per model class after the evaluation's range and point filters. */
  gtCounts: Record<string, number>;
  /** Map IoU per class and mIoU; absent when the config has no map classes. */
  map?: MapIouResult;
  /** Decoded ego-frame detections per sample token. */
  detections: Map<string, EgoDetection[]>;
  /**
   * The evaluation kept per frame, averaging over the classes of `presentClassMetrics` (else the
   * model's): with unit weights `frameMetrics` gives that row; resampled, its bootstrap intervals.
   */
  perFrame: FrameEvaluation;
}

function sigmoidPlanes(logits: OutputLike, classes: number): Float32Array[] {
  const d = toDense(logits);
  const cells = d.data.length / classes;
  const planes = Array.from({ length: classes }, () => new Float32Array(cells));
  for (let n = 0; n < cells; n++) {
    for (let c = 0; c < classes; c++) planes[c][n] = 1 / (1 + Math.exp(-d.data[n * classes + c]));
  }
  return planes;
}

function labelPlanes(target: tf.Tensor, classes: number): Uint8Array[] {
  const data = target.dataSync();
  const cells = data.length / classes;
  const planes = Array.from({ length: classes }, () => new Uint8Array(cells));
  for (let n = 0; n < cells; n++)
    for (let c = 0; c < classes; c++) planes[c][n] = data[n * classes + c] > 0.5 ? 1 : 0;
  return planes;
}

function disposeOutputs(out: ModelOutputs): void {
  for (const v of [out.heatmap, out.reg, out.map]) if (v instanceof tf.Tensor) v.dispose();
}

/**
 * Runs `predict` over `frames` in order, decodes the detections and scores them with the nuScenes
 * detection evaluation (mAP, TP errors, NDS) and the map head with map IoU (thresholds 0.35–0.65).
 * Ground truth comes from the frames themselves (global boxes, map labels).
 * @throws BevzipError (E_SHAPE_MISMATCH) when the model has map classes but returns no map.
 */
export async function evaluateModel(
  frames: readonly Frame[],
  predict: PredictFn,
  cfg: TaskConfig,
  options: EvaluateModelOptions = {},
): Promise<ModelEvalResult> {
  const batchSize = options.batchSize ?? 1;
  const detCfg = options.detectionConfig ?? SYNTHETIC_CONFIG;
  const km = cfg.mapClasses.length;
  const mapAcc = km > 0 ? new MapFrameAccumulator(cfg.mapClasses) : undefined;
  const pred: EvalBoxes = new Map();
  const detections = new Map<string, EgoDetection[]>();

  for (let start = 0; start < frames.length; start += batchSize) {
    const chunk = frames.slice(start, start + batchSize);
    const batch = makeBatch(chunk, cfg);
    try {
      const out = await predict(batch.feeds);
      try {
        const dets = decodeDetections(out.heatmap, out.reg, cfg);
        chunk.forEach((f, s) => {
          detections.set(f.sampleToken, dets[s]);
          pred.set(f.sampleToken, detectionsToEvalBoxes(dets[s], f.sampleToken, f.egoPose));
        });
        if (mapAcc) {
          if (!out.map)
            throw new BevzipError(
              ERROR_CODES.SHAPE_MISMATCH,
              `evaluate: the config has ${km} map classes but the model returned no 'map' output`,
            );
          const probs = sigmoidPlanes(out.map, km);
          const labels = labelPlanes(batch.targets.map!, km);
          // Planes hold the batch's samples one after another; each frame keeps its own counts.
          const cells = probs[0].length / chunk.length;
          for (let s = 0; s < chunk.length; s++) {
            const part = <T extends Float32Array | Uint8Array>(p: T) => p.subarray(s * cells, (s + 1) * cells) as T;
            mapAcc.addFrame(probs.map(part), labels.map(part));
          }
        }
      } finally {
        disposeOutputs(out);
      }
    } finally {
      disposeBatch(batch);
    }
    options.onProgress?.(Math.min(start + batchSize, frames.length), frames.length);
  }

  const gt = framesToGtEvalBoxes(frames);
  const detection = evaluateDetection(gt, pred, detCfg);
  const gtCounts: Record<string, number> = Object.fromEntries(cfg.classes.map((c) => [c, 0]));
  for (const list of filterEvalBoxes(gt, detCfg.classRange).boxes.values()) {
    for (const b of list) if (b.detectionName in gtCounts) gtCounts[b.detectionName]++;
  }
  const over = (classes: readonly string[]): DetectionMetrics => {
    const pick = <T>(rec: Record<string, T>): Record<string, T> =>
      Object.fromEntries(classes.map((c) => [c, rec[c]]));
    return aggregateDetection(
      pick(detection.metrics.labelAps),
      pick(detection.metrics.labelTpErrors),
      detCfg,
    );
  };
  const present = cfg.classes.filter((c) => gtCounts[c] > 0);
  const mapTable = mapAcc?.table();
  return {
    detection,
    classMetrics: over(cfg.classes),
    presentClassMetrics: present.length > 0 ? over(present) : undefined,
    gtCounts,
    map: mapTable && mapIouOf(mapTable),
    detections,
    perFrame: {
      sampleTokens: frames.map((f) => f.sampleToken),
      detection: detectionFrameTable(gt, pred, detCfg),
      classes: present.length > 0 ? present : [...cfg.classes],
      map: mapTable,
    },
  };
}
