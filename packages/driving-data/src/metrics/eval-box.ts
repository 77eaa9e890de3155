import type { DetectionClass } from '../data/types';

/**
 * One box as the nuScenes detection evaluation sees it: a ground-truth annotation or a prediction,
 * in the global frame.
 *
 * Conventions follow the nuScenes submission format rather than `Box3D`:
 * - `size` is **[width, length, height]** (metres), as in nuScenes `sample_annotation.size`;
 * - `rotation` is a quaternion **[w, x, y, z]**; only its yaw is used (see `quaternionYaw`);
 * - `velocity` is [vx, vy] in m/s and may be NaN for ground truth without a neighbouring frame.
 *
 * Use `boxToEvalBox` to build one from a `Box3D`.
 */
export interface EvalBox {
  sampleToken: string;
  /** Box centre [x, y, z] in the global frame, metres. */
  translation: [number, number, number];
  /** [width, length, height], metres (nuScenes order). */
  size: [number, number, number];
  /** Quaternion [w, x, y, z]; need not be normalised. */
  rotation: [number, number, number, number];
  velocity: [number, number];
  detectionName: DetectionClass;
  /** Score in the prediction; −1 for ground truth. */
  detectionScore: number;
  /** nuScenes attribute name, or '' when there is none. */
  attributeName: string;
  /** Distance in the xy plane from the ego vehicle (LIDAR_TOP ego pose) to the box centre. */
  egoDist: number;
  /** Lidar + radar points inside the ground-truth box; −1 for predictions. */
  numPts: number;
}

/**
 * Boxes grouped by sample token. Insertion order of the keys is significant: it fixes the order in
 * which predictions of equal score are matched, exactly as the devkit's `EvalBoxes.all`.
 */
export type EvalBoxes = Map<string, EvalBox[]>;

/** The five true-positive error metrics, in the devkit's order. */
export const TP_METRICS = ['trans_err', 'scale_err', 'orient_err', 'vel_err', 'attr_err'] as const;
export type TpMetric = (typeof TP_METRICS)[number];

/** Display names of the class-averaged TP errors. */
export const TP_METRIC_SUMMARY_NAMES: Record<TpMetric, string> = {
  trans_err: 'mATE',
  scale_err: 'mASE',
  orient_err: 'mAOE',
  vel_err: 'mAVE',
  attr_err: 'mAAE',
};

/**
 * Groups a flat box list by sample token. `sampleTokens` lists samples that must appear even when
 * they hold no boxes, in the order given; boxes of other samples follow in first-seen order.
 */
export function groupBySample(boxes: readonly EvalBox[], sampleTokens: readonly string[] = []): EvalBoxes {
  const grouped: EvalBoxes = new Map(sampleTokens.map((t) => [t, [] as EvalBox[]]));
  for (const box of boxes) {
    const list = grouped.get(box.sampleToken);
    if (list) list.push(box);
    else grouped.set(box.sampleToken, [box]);
  }
  return grouped;
}

/** All boxes in sample order, then in their order within the sample. */
export function allBoxes(boxes: EvalBoxes): EvalBox[] {
  const out: EvalBox[] = [];
  for (const list of boxes.values()) out.push(...list);
  return out;
}
