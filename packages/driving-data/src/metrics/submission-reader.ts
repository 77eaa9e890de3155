import { z } from 'zod';
import { DETECTION_CLASSES } from '../data/types';
import { ATTRIBUTE_NAMES } from './attributes';
import type { EvalBoxes } from './eval-box';
import { egoDistance } from './filter-boxes';
import type { Submission } from './submission-writer';

const num = z.number();
const sampleResultSchema = z.object({
  sample_token: z.string(),
  translation: z.tuple([num, num, num]),
  size: z.tuple([num, num, num]).refine((s) => s.every((v) => v > 0), 'every size entry must be > 0'),
  rotation: z.tuple([num, num, num, num]),
  velocity: z.tuple([num, num]),
  detection_name: z.enum(DETECTION_CLASSES),
  detection_score: num,
  attribute_name: z.union([z.enum(ATTRIBUTE_NAMES), z.literal('')]),
});

/** zod schema of a detection submission file. */
export const submissionSchema = z.object({
  meta: z.object({
    use_camera: z.boolean(),
    use_lidar: z.boolean(),
    use_radar: z.boolean(),
    use_map: z.boolean(),
    use_external: z.boolean(),
  }),
  results: z.record(z.string(), z.array(sampleResultSchema)),
});

/** Checks beyond the schema applied by `parseSubmission`. */
export interface ParseSubmissionOptions {
  /** Name of the file, used in error messages. */
  source?: string;
  /** When given, `results` must list exactly these samples. */
  expectedSampleTokens?: readonly string[];
  /** Default 500. */
  maxBoxesPerSample?: number;
}

/**
 * Validates a submission (JSON text or parsed value) and returns it typed.
 * @throws Error listing, for up to ten problems, the JSON path and what was expected; for
 *   results filed under the wrong sample, samples over the box limit, and missing or unknown
 *   samples when `expectedSampleTokens` is given.
 */
export function parseSubmission(input: string | unknown, options: ParseSubmissionOptions = {}): Submission {
  const source = options.source ?? 'submission';
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (e) {
      throw new Error(`${source}: not valid JSON (${(e as Error).message})`);
    }
  }
  const parsed = submissionSchema.safeParse(value);
  if (!parsed.success) {
    const lines = parsed.error.issues
      .slice(0, 10)
      .map((iss) => `  ${iss.path.map(String).join('.') || '(root)'}: ${iss.message}`);
    const more = parsed.error.issues.length > 10 ? `\n  … and ${parsed.error.issues.length - 10} more` : '';
    throw new Error(`${source}: invalid detection submission\n${lines.join('\n')}${more}`);
  }
  const sub = parsed.data as Submission;
  const max = options.maxBoxesPerSample ?? 500;
  for (const [token, list] of Object.entries(sub.results)) {
    list.forEach((r, i) => {
      if (r.sample_token !== token) {
        throw new Error(
          `${source}: results.${token}.${i}.sample_token is ${r.sample_token}; expected ${token}`,
        );
      }
    });
    if (list.length > max)
      throw new Error(`${source}: results.${token} has ${list.length} boxes; at most ${max} are allowed`);
  }
  if (options.expectedSampleTokens) {
    const expected = new Set(options.expectedSampleTokens);
    const missing = options.expectedSampleTokens.filter((t) => !(t in sub.results));
    const unknown = Object.keys(sub.results).filter((t) => !expected.has(t));
    if (missing.length > 0 || unknown.length > 0) {
      throw new Error(
        `${source}: results must list every sample of the evaluation set and no other` +
          (missing.length ? `; missing ${missing.length} (e.g. ${missing.slice(0, 3).join(', ')})` : '') +
          (unknown.length ? `; unknown ${unknown.length} (e.g. ${unknown.slice(0, 3).join(', ')})` : ''),
      );
    }
  }
  return sub;
}

/**
 * The predictions of a submission as `EvalBoxes`. `egoDist` is computed from `egoTranslation`
 * (the sample's ego position, global frame); without it, or when it returns undefined, `egoDist`
 * is NaN and must be set before filtering.
 */
export function submissionToEvalBoxes(
  sub: Submission,
  egoTranslation?: (sampleToken: string) => readonly [number, number, number] | undefined,
): EvalBoxes {
  const out: EvalBoxes = new Map();
  for (const [token, list] of Object.entries(sub.results)) {
    const ego = egoTranslation?.(token);
    out.set(
      token,
      list.map((r) => ({
        sampleToken: r.sample_token,
        translation: [...r.translation],
        size: [...r.size],
        rotation: [...r.rotation],
        velocity: [...r.velocity],
        detectionName: r.detection_name,
        detectionScore: r.detection_score,
        attributeName: r.attribute_name,
        egoDist: ego ? egoDistance(r.translation, ego) : NaN,
        numPts: -1,
      })),
    );
  }
  return out;
}
