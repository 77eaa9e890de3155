import type { Vec3 } from '../geometry/pose';

/** The annotation fields box velocity needs, plus a way to find neighbours and sample times. */
export interface VelocitySource {
  annotation(token: string): { translation: Vec3; sample_token: string; prev: string; next: string };
  /** Sample timestamp in microseconds. */
  sampleTimestamp(sampleToken: string): number;
}

/**
 * Global-frame velocity of an annotation as the devkit's `NuScenes.box_velocity` estimates it:
 * the centred difference between the previous and next annotations of the instance, or a
 * one-sided difference at either end. NaN ×3 for a lone annotation, or when the time span
 * exceeds `maxTimeDiff` seconds (doubled for a centred difference).
 */
export function boxVelocity(source: VelocitySource, annotationToken: string, maxTimeDiff = 1.5): Vec3 {
  const current = source.annotation(annotationToken);
  const hasPrev = current.prev !== '';
  const hasNext = current.next !== '';
  if (!hasPrev && !hasNext) return [NaN, NaN, NaN];
  const first = hasPrev ? source.annotation(current.prev) : current;
  const last = hasNext ? source.annotation(current.next) : current;
  const dt = 1e-6 * (source.sampleTimestamp(last.sample_token) - source.sampleTimestamp(first.sample_token));
  const limit = hasPrev && hasNext ? 2 * maxTimeDiff : maxTimeDiff;
  if (dt > limit) return [NaN, NaN, NaN];
  return [
    (last.translation[0] - first.translation[0]) / dt,
    (last.translation[1] - first.translation[1]) / dt,
    (last.translation[2] - first.translation[2]) / dt,
  ];
}
