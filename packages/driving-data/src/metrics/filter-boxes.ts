import type { DetectionClass } from '../data/types';
import type { EvalBox, EvalBoxes } from './eval-box';

/**
 * Decides whether a bicycle or motorcycle box stands in a bicycle rack. The reference evaluation
 * tests the box centre against the sample's `static_object.bicycle_rack` annotations; bevzip has no
 * such annotations for synthetic scenes, so the rule runs only when the caller supplies this hook.
 */
export type InBikeRack = (box: EvalBox) => boolean;

/** Per-stage box counts from `filterEvalBoxes`, for logging. */
export interface FilterStats {
  total: number;
  afterDistance: number;
  afterPoints: number;
  afterBikeRack: number;
}

/**
 * Applies the evaluation's box filters, in the reference order, to every sample:
 * 1. drop boxes whose `egoDist` is not below the range of their class;
 * 2. drop boxes with `numPts === 0` (ground truth without a lidar or radar point; predictions
 *    carry −1 and are kept);
 * 3. if `inBikeRack` is given, drop bicycles and motorcycles it reports as parked in a rack.
 * Returns new lists; the input is not modified.
 * @throws Error naming the sample when a box has no finite `egoDist`.
 */
export function filterEvalBoxes(
  boxes: EvalBoxes,
  classRange: Record<DetectionClass, number>,
  inBikeRack?: InBikeRack,
): { boxes: EvalBoxes; stats: FilterStats } {
  const stats: FilterStats = { total: 0, afterDistance: 0, afterPoints: 0, afterBikeRack: 0 };
  const out: EvalBoxes = new Map();
  for (const [token, list] of boxes) {
    stats.total += list.length;
    for (const b of list) {
      if (!Number.isFinite(b.egoDist)) {
        throw new Error(
          `filterEvalBoxes: a ${b.detectionName} box in sample ${token} has egoDist ${b.egoDist}; expected a finite distance`,
        );
      }
    }
    let kept = list.filter((b) => b.egoDist < classRange[b.detectionName]);
    stats.afterDistance += kept.length;
    kept = kept.filter((b) => b.numPts !== 0);
    stats.afterPoints += kept.length;
    if (inBikeRack) {
      kept = kept.filter(
        (b) => !((b.detectionName === 'bicycle' || b.detectionName === 'motorcycle') && inBikeRack(b)),
      );
    }
    stats.afterBikeRack += kept.length;
    out.set(token, kept);
  }
  return { boxes: out, stats };
}

/** xy distance from an ego position (global frame) to a box centre, as used for range filtering. */
export function egoDistance(
  translation: readonly [number, number, number],
  egoTranslation: readonly [number, number, number],
): number {
  const dx = translation[0] - egoTranslation[0];
  const dy = translation[1] - egoTranslation[1];
  return Math.sqrt(dx * dx + dy * dy);
}
