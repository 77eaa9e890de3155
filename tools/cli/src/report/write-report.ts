import * as fs from 'node:fs';
import * as path from 'node:path';
import { BevzipError, ERROR_CODES } from '@bevzip/ir';
import { z } from 'zod';
import { accuracySizeChart, bitWidthChart, layerSparsityChart, lossChart, modalitySparsityChart, type VegaLiteSpec } from './charts';
import { reportHtml, type ChartSection } from './html';
import { lossSeries } from './loss-series';
import { vegaLiteSvg, type SvgRenderer } from './render-svg';
import { EVENTS_FILE, REPORT_FILE, SUMMARY_FILE, type RunSummary } from './summary';
import { parseJsonText } from '../pipeline/json-text';
import { writeFileAtomic } from '../pipeline/out-dir';

export type { SvgRenderer } from './render-svg';

const num = z.number().nullable();
/** What the report reads of `summary.json`; other fields pass through unchecked. */
const summarySchema = z.looseObject({
  format: z.literal('bevzip-summary'),
  version: z.literal(2),
  pipeline: z.looseObject({ stages: z.array(z.looseObject({ name: z.string(), steps: z.number() })) }),
  models: z.array(z.looseObject({ name: z.string(), mAP: num, NDS: num, mIoU: num, onnxMB: z.number(), latencyMs: num })),
  sparsity: z.looseObject({ total: z.looseObject({ zeros: z.number(), size: z.number() }), layers: z.array(z.looseObject({ name: z.string() })), modalities: z.array(z.looseObject({})) }),
  bitWidths: z.array(z.looseObject({})),
});

/** Reads `summary.json` of a run folder, checking the fields the report draws from. */
export function readSummary(dir: string): RunSummary {
  const file = path.join(dir, SUMMARY_FILE);
  if (!fs.existsSync(file)) throw new BevzipError(ERROR_CODES.CONFIG, `${dir}: no ${SUMMARY_FILE} (expected the output folder of bevzip compress)`);
  const raw = parseJsonText(fs.readFileSync(file, 'utf8'), file);
  const parsed = summarySchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.slice(0, 5).map((i) => `${file}: ${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
    throw new BevzipError(ERROR_CODES.CONFIG, `${lines.join('\n')}\n(the summary is incomplete or from another version; rerun bevzip compress to write it again)`);
  }
  return raw as RunSummary;
}

/** The report's chart sections from a summary and its event log. */
export async function chartSections(summary: RunSummary, events: string, render: SvgRenderer): Promise<ChartSection[]> {
  const losses = lossSeries(events, summary.pipeline.stages);
  const anyZero = summary.sparsity.total.zeros > 0;
  const specs: { id: string; title: string; spec?: VegaLiteSpec; note: string }[] = [
    { id: 'losses', title: 'Loss curves', spec: losses.length ? lossChart(losses, summary.pipeline.stages) : undefined, note: 'no training steps were logged' },
    { id: 'sparsity-modality', title: 'Sparsity per modality', spec: anyZero ? modalitySparsityChart(summary) : undefined, note: 'no weights were pruned' },
    { id: 'sparsity-layer', title: 'Sparsity per layer', spec: anyZero ? layerSparsityChart(summary) : undefined, note: 'no weights were pruned' },
    { id: 'bit-widths', title: 'Bit-widths per layer', spec: summary.bitWidths.length ? bitWidthChart(summary) : undefined, note: 'no quantizer reported bit-widths (all weights float32)' },
    { id: 'accuracy-size', title: 'Accuracy vs size', spec: summary.models.some((m) => m.mAP !== null) ? accuracySizeChart(summary) : undefined, note: 'the models were not evaluated' },
  ];
  const sections: ChartSection[] = [];
  for (const s of specs) sections.push({ id: s.id, title: s.title, svg: s.spec && (await render(s.spec)), note: s.spec ? undefined : s.note });
  return sections;
}

/**
 * Writes `report.html` into a run folder from its `summary.json` and `events.jsonl`; returns the path.
 * @throws BevzipError (E_CONFIG) when the folder holds no summary.
 */
export async function writeReport(dir: string, options: { render?: SvgRenderer } = {}): Promise<string> {
  const summary = readSummary(dir);
  const eventsFile = path.join(dir, EVENTS_FILE);
  const events = fs.existsSync(eventsFile) ? fs.readFileSync(eventsFile, 'utf8') : '';
  const html = reportHtml(summary, await chartSections(summary, events, options.render ?? vegaLiteSvg));
  const file = path.join(dir, REPORT_FILE);
  writeFileAtomic(file, html);
  return file;
}
