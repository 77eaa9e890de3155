import type { EvalBox } from './eval-box';

/** Distance between the box centres in the xy plane (the matching criterion). */
export function centerDistance(gt: EvalBox, pred: EvalBox): number {
  const dx = pred.translation[0] - gt.translation[0];
  const dy = pred.translation[1] - gt.translation[1];
  return Math.sqrt(dx * dx + dy * dy);
}

/** L2 distance between the xy velocities; NaN when either velocity is NaN. */
export function velocityL2(gt: EvalBox, pred: EvalBox): number {
  const dx = pred.velocity[0] - gt.velocity[0];
  const dy = pred.velocity[1] - gt.velocity[1];
  return Math.sqrt(dx * dx + dy * dy);
}

/**
 * 3D IoU of the two boxes after aligning their centres and orientations, i.e. a comparison of
 * sizes only: ∏min(sᵢ, tᵢ) / (∏s + ∏t − ∏min).
 * @throws Error when a size component is not positive.
 */
export function scaleIou(gt: EvalBox, pred: EvalBox): number {
  for (const [role, box] of [
    ['ground-truth', gt],
    ['predicted', pred],
  ] as const) {
    if (!box.size.every((s) => s > 0)) {
      throw new Error(
        `scale IoU: ${role} box in sample ${box.sampleToken} has size [${box.size.join(', ')}]; every entry must be > 0`,
      );
    }
  }
  const vGt = gt.size[0] * gt.size[1] * gt.size[2];
  const vPred = pred.size[0] * pred.size[1] * pred.size[2];
  const inter =
    Math.min(gt.size[0], pred.size[0]) *
    Math.min(gt.size[1], pred.size[1]) *
    Math.min(gt.size[2], pred.size[2]);
  return inter / (vGt + vPred - inter);
}

/**
 * Heading of the box: the angle from +x of the rotated x axis projected onto the xy plane.
 * A non-unit quaternion is normalised first; the zero quaternion gives 0.
 */
export function quaternionYaw(q: readonly [number, number, number, number]): number {
  let [w, x, y, z] = q;
  const sq = w * w + x * x + y * y + z * z;
  if (!(Math.abs(1 - sq) < 1e-14)) {
    const n = Math.sqrt(sq);
    if (n > 0) {
      w /= n;
      x /= n;
      y /= n;
      z /= n;
    }
  }
  // Rotation-matrix entries R[0][0] and R[1][0], summed in the reference's order.
  const r00 = x * x + w * w - z * z - y * y;
  const r10 = y * x + z * w + w * z + x * y;
  return Math.atan2(r10, r00);
}

/** Python's float modulo: the result takes the sign of the divisor. */
function pyMod(a: number, b: number): number {
  let m = a % b;
  if (m !== 0) {
    if (b < 0 !== m < 0) m += b;
  } else {
    m = b < 0 ? -0 : 0;
  }
  return m;
}

/**
 * Signed smallest difference from angle `y` to angle `x` (radians) for angles defined modulo
 * `period`; the result lies in (−π, π].
 */
export function angleDiff(x: number, y: number, period: number): number {
  let diff = pyMod(x - y + period / 2, period) - period / 2;
  if (diff > Math.PI) diff -= 2 * Math.PI;
  return diff;
}

/** Absolute yaw difference of two boxes, angles taken modulo `period` (2π, or π for barriers). */
export function yawDiff(gt: EvalBox, pred: EvalBox, period = 2 * Math.PI): number {
  return Math.abs(angleDiff(quaternionYaw(gt.rotation), quaternionYaw(pred.rotation), period));
}

/** 1 when the attributes agree, 0 when not, NaN when the ground truth has no attribute. */
export function attrAcc(gt: EvalBox, pred: EvalBox): number {
  if (gt.attributeName === '') return NaN;
  return gt.attributeName === pred.attributeName ? 1 : 0;
}

/**
 * Running mean that skips NaNs: entry i is the mean of the non-NaN values among the first i+1
 * (0 while there are none). An all-NaN input gives all ones, i.e. the worst error.
 */
export function cummean(x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  let allNaN = true;
  for (let i = 0; i < x.length; i++) if (!Number.isNaN(x[i])) allNaN = false;
  if (allNaN) return out.fill(1);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isNaN(x[i])) {
      sum += x[i];
      count++;
    }
    out[i] = count === 0 ? 0 : sum / count;
  }
  return out;
}
