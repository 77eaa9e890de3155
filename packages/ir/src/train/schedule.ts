import { z } from 'zod';
import { BevzipError, ERROR_CODES } from '../errors';

/**
 * Learning-rate schedules. Every step count is absolute (optimizer steps since the start of the
 * stage, 0 for the first step); warm-up is a linear ramp multiplied onto the schedule, so
 * `totalSteps` and `stepSize` mean the same with or without it.
 */
export type ScheduleConfig = ({ kind: 'constant' } | { kind: 'step'; stepSize: number; gamma: number } | { kind: 'cosine'; totalSteps: number; minLr?: number }) & {
  /** Linear warm-up: step s < warmupSteps is scaled by (s + 1) / warmupSteps. */
  warmupSteps?: number;
};

const warmup = { warmupSteps: z.number().int().min(0).optional() };

/** Validates a schedule read from a config file. */
export const scheduleConfigSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('constant'), ...warmup }),
  z.object({ kind: z.literal('step'), stepSize: z.number().int().min(1), gamma: z.number().finite().min(0), ...warmup }),
  z.object({ kind: z.literal('cosine'), totalSteps: z.number().int().min(1), minLr: z.number().finite().min(0).optional(), ...warmup }),
]);

/**
 * The learning rate for `step` (0-based).
 * - `constant`: baseLr.
 * - `step`: baseLr · gamma^⌊step / stepSize⌋ (PyTorch StepLR).
 * - `cosine`: minLr + (baseLr − minLr)·(1 + cos(π·min(step, totalSteps)/totalSteps))/2, then minLr
 *   (PyTorch CosineAnnealingLR without restarts; minLr is absolute, default 0).
 *
 * @example
 * learningRate({ kind: 'cosine', totalSteps: 100, warmupSteps: 10 }, 1e-3, 0); // 1e-4
 */
export function learningRate(config: ScheduleConfig, baseLr: number, step: number): number {
  const parsed = scheduleConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BevzipError(ERROR_CODES.CONFIG, `schedule '${config?.kind}': ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  if (!(Number.isInteger(step) && step >= 0)) throw new BevzipError(ERROR_CODES.CONFIG, `schedule '${config.kind}': step must be a non-negative integer, got ${step}`);
  if (!(Number.isFinite(baseLr) && baseLr >= 0)) throw new BevzipError(ERROR_CODES.CONFIG, `schedule '${config.kind}': base learning rate must be finite and ≥ 0, got ${baseLr}`);
  const c = parsed.data;
  let lr: number;
  switch (c.kind) {
    case 'constant':
      lr = baseLr;
      break;
    case 'step':
      lr = baseLr * Math.pow(c.gamma, Math.floor(step / c.stepSize));
      break;
    case 'cosine': {
      const minLr = c.minLr ?? 0;
      const progress = Math.min(step, c.totalSteps) / c.totalSteps;
      lr = minLr + ((baseLr - minLr) * (1 + Math.cos(Math.PI * progress))) / 2;
      break;
    }
  }
  const w = c.warmupSteps ?? 0;
  return step < w ? (lr * (step + 1)) / w : lr;
}
