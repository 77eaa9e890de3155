import { frameMetrics, FRAME_METRICS, type FrameEvaluation } from './frame-evaluation';

/**
 * A metric set as a function of frame weights: frame f counted `weights[f]` times. Called with
 * the unit weights for the point estimate and with multinomial counts for each resample.
 */
export type ResampleStatistic = (weights: Int32Array) => Record<string, number>;

/** Settings of {@link pairedBootstrap}. */
export interface BootstrapOptions {
  /** Resamples (default 1000). */
  resamples?: number;
  /** Seed of the resampling stream (default 0); equal seeds give equal intervals. */
  seed?: number;
  /** Coverage of the percentile intervals (default 0.95). */
  confidence?: number;
  /** The model differences are taken against (default the first). */
  reference?: string;
}

/** A metric on the full set and its percentile interval over the resamples. */
export interface MetricInterval {
  estimate: number;
  lo: number;
  hi: number;
}

/** A difference `model − reference`; significant only when its interval excludes 0. */
export interface DifferenceInterval extends MetricInterval {
  significant: boolean;
}

export interface PairedBootstrapResult {
  frames: number;
  resamples: number;
  seed: number;
  confidence: number;
  reference: string;
  /** `models[name][metric]`. */
  models: Record<string, Record<string, MetricInterval>>;
  /** `differences[name][metric]` for every model but the reference: name − reference. */
  differences: Record<string, Record<string, DifferenceInterval>>;
}

/** A small seeded generator (SplitMix32) for the resample indices: uniform in [0, 1). */
export function bootstrapRng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 4294967296;
  };
}

/** Quantile q of sorted values with linear interpolation between order statistics (numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const i = Math.floor(pos);
  const frac = pos - i;
  return i + 1 < n ? sorted[i] + frac * (sorted[i + 1] - sorted[i]) : sorted[n - 1];
}

function interval(estimate: number, samples: Float64Array, confidence: number): MetricInterval {
  // A metric undefined on some resample (NaN) has no interval.
  if (samples.some((v) => Number.isNaN(v))) return { estimate, lo: NaN, hi: NaN };
  const sorted = samples.slice().sort();
  const tail = (1 - confidence) / 2;
  return { estimate, lo: quantileSorted(sorted, tail), hi: quantileSorted(sorted, 1 - tail) };
}

/**
 * Paired bootstrap over frames: each resample draws `frames` frame indices with replacement (one
 * seeded stream) and evaluates every model on the same draw, so a difference between two models
 * is measured on identical frames and its interval is that of the paired differences. Intervals
 * are percentile intervals; the estimate is the statistic on the full set (unit weights).
 * Identical statistics give differences of exactly 0 on every resample.
 * @throws Error when `frames` < 1, no model is given, the reference is unknown or an option is out of range.
 */
export function pairedBootstrap(
  frames: number,
  models: Record<string, ResampleStatistic>,
  options: BootstrapOptions = {},
): PairedBootstrapResult {
  const names = Object.keys(models);
  const resamples = options.resamples ?? 1000;
  const seed = options.seed ?? 0;
  const confidence = options.confidence ?? 0.95;
  const reference = options.reference ?? names[0];
  if (!(Number.isInteger(frames) && frames >= 1))
    throw new Error(`pairedBootstrap: frames must be an integer ≥ 1, got ${frames}`);
  if (names.length === 0) throw new Error('pairedBootstrap: at least one model is required');
  if (!(reference in models))
    throw new Error(`pairedBootstrap: reference '${reference}' is not one of ${names.join(', ')}`);
  if (!(Number.isInteger(resamples) && resamples >= 2))
    throw new Error(`pairedBootstrap: resamples must be an integer ≥ 2, got ${resamples}`);
  if (!(confidence > 0 && confidence < 1))
    throw new Error(`pairedBootstrap: confidence must lie in (0, 1), got ${confidence}`);

  const full = Object.fromEntries(names.map((n) => [n, models[n](new Int32Array(frames).fill(1))]));
  const metrics = Object.fromEntries(names.map((n) => [n, Object.keys(full[n])]));
  const samples = Object.fromEntries(
    names.map((n) => [n, Object.fromEntries(metrics[n].map((m) => [m, new Float64Array(resamples)]))]),
  );
  const others = names.filter((n) => n !== reference);
  const diffs = Object.fromEntries(
    others.map((n) => [
      n,
      Object.fromEntries(
        metrics[n].filter((m) => metrics[reference].includes(m)).map((m) => [m, new Float64Array(resamples)]),
      ),
    ]),
  );

  const rng = bootstrapRng(seed);
  const weights = new Int32Array(frames);
  for (let r = 0; r < resamples; r++) {
    weights.fill(0);
    for (let i = 0; i < frames; i++) weights[Math.floor(rng() * frames)]++;
    const values = Object.fromEntries(names.map((n) => [n, models[n](weights)]));
    for (const n of names) for (const m of metrics[n]) samples[n][m][r] = values[n][m];
    for (const n of others) for (const m of Object.keys(diffs[n])) diffs[n][m][r] = values[n][m] - values[reference][m];
  }

  const modelIntervals = Object.fromEntries(
    names.map((n) => [n, Object.fromEntries(metrics[n].map((m) => [m, interval(full[n][m], samples[n][m], confidence)]))]),
  );
  const differences = Object.fromEntries(
    others.map((n) => [
      n,
      Object.fromEntries(
        Object.keys(diffs[n]).map((m) => {
          const iv = interval(full[n][m] - full[reference][m], diffs[n][m], confidence);
          return [m, { ...iv, significant: iv.lo > 0 || iv.hi < 0 }];
        }),
      ),
    ]),
  );
  return { frames, resamples, seed, confidence, reference, models: modelIntervals, differences };
}

/**
 * The statistic of one evaluated model: {@link frameMetrics} on the weights, restricted to
 * `metrics` (default all of {@link FRAME_METRICS}).
 */
export function frameStatistic(e: FrameEvaluation, metrics: readonly string[] = FRAME_METRICS): ResampleStatistic {
  return (w) => {
    const all = frameMetrics(e, w) as Record<string, number>;
    return Object.fromEntries(metrics.map((m) => [m, all[m]]));
  };
}

/**
 * The mean of several evaluations' statistics (e.g. one model trained with several seeds) on the
 * same resample; every evaluation must cover the same frames in the same order.
 * @throws Error naming the first frame where two evaluations differ.
 */
export function seedMeanStatistic(evals: readonly FrameEvaluation[], metrics: readonly string[] = FRAME_METRICS): ResampleStatistic {
  if (evals.length === 0) throw new Error('seedMeanStatistic: at least one evaluation is required');
  assertSameFrames(evals);
  const stats = evals.map((e) => frameStatistic(e, metrics));
  return (w) => {
    const all = stats.map((s) => s(w));
    return Object.fromEntries(metrics.map((m) => [m, all.reduce((a, v) => a + v[m], 0) / all.length]));
  };
}

/**
 * Checks that evaluations cover the same frames in the same order (what a paired comparison needs).
 * @throws Error naming the first differing position and tokens.
 */
export function assertSameFrames(evals: readonly Pick<FrameEvaluation, 'sampleTokens'>[]): void {
  const ref = evals[0]?.sampleTokens ?? [];
  for (const [k, e] of evals.entries()) {
    if (e.sampleTokens.length !== ref.length)
      throw new Error(`paired evaluation: evaluation ${k} has ${e.sampleTokens.length} frames, evaluation 0 has ${ref.length}`);
    const i = e.sampleTokens.findIndex((t, j) => t !== ref[j]);
    if (i >= 0)
      throw new Error(`paired evaluation: evaluation ${k} has frame ${e.sampleTokens[i]} at position ${i} where evaluation 0 has ${ref[i]}`);
  }
}

/**
 * Paired bootstrap of evaluated models (each a list of per-seed evaluations on the same frames):
 * the 95% interval of every metric of {@link FRAME_METRICS} and of each difference to the
 * reference model.
 *
 * @example
 * const r = compareEvaluations({ float: [fp], int8: [q] }, { reference: 'float' });
 * r.differences.int8.NDS; // { estimate, lo, hi, significant }
 */
export function compareEvaluations(
  models: Record<string, readonly FrameEvaluation[]>,
  options: BootstrapOptions & { metrics?: readonly string[] } = {},
): PairedBootstrapResult {
  const all = Object.values(models).flat();
  assertSameFrames(all);
  const stats = Object.fromEntries(
    Object.entries(models).map(([n, evals]) => [n, seedMeanStatistic(evals, options.metrics)]),
  );
  return pairedBootstrap(all[0]?.sampleTokens.length ?? 0, stats, options);
}
