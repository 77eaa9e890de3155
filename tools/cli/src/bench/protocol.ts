import { compareEvaluations, frameMetrics, type FrameEvaluation, type MetricInterval } from '@bevzip/driving-data';

/**
 * The evaluation protocol every benchmark reports with (benchmarks/README.md): a seeded paired
 * bootstrap over the validation frames, 95% percentile intervals, and a difference called
 * significant only when its interval excludes 0.
 */
export const BOOTSTRAP_PROTOCOL = { resamples: 1000, seed: 0, confidence: 0.95 } as const;

/** The metrics the benchmark tables report with intervals. */
export const TABLE_METRICS = ['mAP', 'NDS'] as const;
type TableMetric = (typeof TABLE_METRICS)[number];

/** A metric's mean (over seeds, on all frames) and its 95% interval. */
export interface IntervalCell {
  mean: number;
  lo: number;
  hi: number;
}

/** A difference to the baseline; significant only when its interval excludes 0. */
export interface DifferenceCell extends IntervalCell {
  significant: boolean;
}

/** One model of a comparison, with its per-frame evaluation for each seed. */
export interface ComparedModel {
  name: string;
  evals: readonly FrameEvaluation[];
  /** Further columns printed after the statistics (cost, latency, …), already formatted. */
  extra?: Record<string, string>;
}

/** One row of {@link compareModels}' JSON. */
export interface ProtocolRow {
  name: string;
  seeds: number;
  mAP: IntervalCell;
  NDS: IntervalCell;
  /** Smallest and largest value over the seeds (equal with one seed). */
  seedSpread: Record<TableMetric, { min: number; max: number }>;
  /** `name − baseline`; null on the baseline row. */
  deltaMAP: DifferenceCell | null;
  deltaNDS: DifferenceCell | null;
  extra?: Record<string, string>;
}

/** The JSON of a comparison (what reports keep); {@link renderComparison} prints it. */
export interface ProtocolComparison {
  baseline: string;
  frames: number;
  resamples: number;
  seed: number;
  confidence: number;
  rows: ProtocolRow[];
}

/** What {@link compareModels} returns: the comparison and its printed table. */
export interface ProtocolTable extends ProtocolComparison {
  text: string;
}

const r4 = (v: number) => Math.round(v * 1e4) / 1e4;
const cell = (i: MetricInterval): IntervalCell => ({ mean: r4(i.estimate), lo: r4(i.lo), hi: r4(i.hi) });
const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(4)}`;
const showInterval = (c: IntervalCell) => `${c.mean.toFixed(4)} [${c.lo.toFixed(4)}, ${c.hi.toFixed(4)}]`;
const showDiff = (c: DifferenceCell | null) =>
  c ? `${signed(c.mean)} [${signed(c.lo)}, ${signed(c.hi)}]${c.significant ? ' *' : '  '}` : '';

/**
 * Compares a baseline with variants on the same frames: mean and 95% interval of mAP and NDS per
 * model, and the paired difference to the baseline with its interval, marked `*` only when the
 * interval excludes 0. A model with several evaluations (seeds) counts their mean on each resample.
 *
 * @param baseline name of the reference model (default the first).
 * @throws Error when the models were not evaluated on the same frames in the same order.
 */
export function compareModels(models: readonly ComparedModel[], options: { baseline?: string; title?: string } = {}): ProtocolTable {
  const baseline = options.baseline ?? models[0]?.name;
  const result = compareEvaluations(Object.fromEntries(models.map((m) => [m.name, m.evals])), {
    ...BOOTSTRAP_PROTOCOL,
    reference: baseline,
    metrics: TABLE_METRICS,
  });
  const rows: ProtocolRow[] = models.map((m) => {
    const perSeed = m.evals.map((e) => frameMetrics(e));
    const spread = (k: TableMetric) => ({ min: r4(Math.min(...perSeed.map((p) => p[k]))), max: r4(Math.max(...perSeed.map((p) => p[k]))) });
    const d = result.differences[m.name];
    const diff = (k: TableMetric): DifferenceCell | null => (d ? { ...cell(d[k]), significant: d[k].significant } : null);
    return {
      name: m.name,
      seeds: m.evals.length,
      mAP: cell(result.models[m.name].mAP),
      NDS: cell(result.models[m.name].NDS),
      seedSpread: { mAP: spread('mAP'), NDS: spread('NDS') },
      deltaMAP: diff('mAP'),
      deltaNDS: diff('NDS'),
      ...(m.extra && { extra: m.extra }),
    };
  });

  const comparison: ProtocolComparison = { baseline: baseline!, frames: result.frames, resamples: result.resamples, seed: result.seed, confidence: result.confidence, rows };
  return { ...comparison, text: renderComparison(comparison, options.title) };
}

/** The table of a comparison: one line per model, the extra columns last, the protocol in a footnote. */
export function renderComparison(c: ProtocolComparison, title?: string): string {
  const extraKeys = [...new Set(c.rows.flatMap((r) => Object.keys(r.extra ?? {})))];
  const header = ['model', 'mAP [95% CI]', 'NDS [95% CI]', 'ΔmAP [95% CI]', 'ΔNDS [95% CI]', ...extraKeys];
  const body = c.rows.map((r) => [
    r.name === c.baseline ? `${r.name} (baseline)` : r.name,
    showInterval(r.mAP),
    showInterval(r.NDS),
    showDiff(r.deltaMAP),
    showDiff(r.deltaNDS),
    ...extraKeys.map((k) => r.extra?.[k] ?? ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((x, i) => x.padEnd(widths[i])).join('  ').trimEnd();
  const seeds = [...new Set(c.rows.map((r) => r.seeds))];
  const lines = [
    ...(title ? [title] : []),
    line(header),
    ...body.map(line),
    `${c.frames} validation frames; ${seeds.join('/')} seed(s) per model (mean over seeds); paired bootstrap over frames, ${c.resamples} resamples, seed ${c.seed}; Δ = model − ${c.baseline}, * = its ${Math.round(c.confidence * 100)}% interval excludes 0`,
  ];
  return lines.join('\n') + '\n';
}
