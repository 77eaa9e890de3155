import type { DetectionClass } from '../data/types';
import type { EvalBox, EvalBoxes } from './eval-box';

/** Which inputs a method used (`submission.meta`). */
export interface SubmissionMeta {
  use_camera: boolean;
  use_lidar: boolean;
  use_radar: boolean;
  use_map: boolean;
  use_external: boolean;
}

/** One detection in submission form (`sample_result`): global frame, size [w, l, h], quaternion [w, x, y, z]. */
export interface SampleResult {
  sample_token: string;
  translation: [number, number, number];
  size: [number, number, number];
  rotation: [number, number, number, number];
  velocity: [number, number];
  detection_name: DetectionClass;
  detection_score: number;
  attribute_name: string;
}

/** A nuScenes detection submission: every sample of the evaluation set maps to its (possibly empty) results. */
export interface Submission {
  meta: SubmissionMeta;
  results: Record<string, SampleResult[]>;
}

/** Meta of a camera + lidar model without map or external data (BEVFusion). */
export const CAMERA_LIDAR_META: Readonly<SubmissionMeta> = Object.freeze({
  use_camera: true,
  use_lidar: true,
  use_radar: false,
  use_map: false,
  use_external: false,
});

function checkFinite(values: readonly number[], where: string, field: string): void {
  if (!values.every(Number.isFinite)) {
    throw new Error(`submission: ${where}: ${field} must be finite numbers, got [${values.join(', ')}]`);
  }
}

/**
 * Builds a submission from predicted boxes (global frame). Every token of `sampleTokens` is
 * listed, with an empty list when it has no predictions, in the given order.
 * @throws Error naming the sample and box when a box belongs to a sample not in `sampleTokens`,
 *   holds a non-finite number, or a sample has more than `maxBoxesPerSample` boxes.
 */
export function buildSubmission(
  predictions: EvalBoxes | readonly EvalBox[],
  sampleTokens: readonly string[],
  meta: SubmissionMeta = CAMERA_LIDAR_META,
  maxBoxesPerSample = 500,
): Submission {
  const results: Record<string, SampleResult[]> = {};
  for (const t of sampleTokens) results[t] = [];
  const flat = Array.isArray(predictions) ? predictions : [...(predictions as EvalBoxes).values()].flat();
  flat.forEach((b: EvalBox, i: number) => {
    const where = `prediction ${i} (sample ${b.sampleToken})`;
    const list = results[b.sampleToken];
    if (!list) throw new Error(`submission: ${where}: sample token is not in the evaluation set`);
    checkFinite(b.translation, where, 'translation');
    checkFinite(b.size, where, 'size');
    checkFinite(b.rotation, where, 'rotation');
    checkFinite(b.velocity, where, 'velocity');
    checkFinite([b.detectionScore], where, 'detection_score');
    list.push({
      sample_token: b.sampleToken,
      translation: [...b.translation],
      size: [...b.size],
      rotation: [...b.rotation],
      velocity: [...b.velocity],
      detection_name: b.detectionName,
      detection_score: b.detectionScore,
      attribute_name: b.attributeName,
    });
  });
  for (const [t, list] of Object.entries(results)) {
    if (list.length > maxBoxesPerSample) {
      throw new Error(
        `submission: sample ${t} has ${list.length} boxes; at most ${maxBoxesPerSample} are allowed`,
      );
    }
  }
  return { meta: { ...meta }, results };
}

/** The submission as JSON text (the file the devkit's `evaluate.py` reads). */
export function serializeSubmission(submission: Submission, indent?: number): string {
  return JSON.stringify(submission, null, indent);
}
