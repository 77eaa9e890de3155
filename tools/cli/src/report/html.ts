import type { ModelRow, RunSummary } from './summary';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const num = (v: number | null, digits: number) => (v === null ? '—' : v.toFixed(digits));

function metricsTable(models: readonly ModelRow[]): string {
  const head = ['model', 'mAP', 'NDS', 'mIoU', 'params', 'non-zero', 'ONNX file (MB)', 'ORT latency (ms)'];
  const rows = models.map((m) =>
    [m.name, num(m.mAP, 4), num(m.NDS, 4), num(m.mIoU, 4), m.params.toLocaleString('en-US'), m.nonZero.toLocaleString('en-US'), num(m.onnxMB, 3), num(m.latencyMs, 1)]
      .map((c, i) => (i === 0 ? `<th scope="row">${escapeHtml(c)}</th>` : `<td>${escapeHtml(c)}</td>`))
      .join(''),
  );
  return `<table id="metrics"><thead><tr>${head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r}</tr>`).join('')}</tbody></table>`;
}

/** A chart section: the rendered SVG, or a note saying why there is nothing to draw. */
export interface ChartSection {
  id: string;
  title: string;
  svg?: string;
  note?: string;
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 960px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; } th, td { padding: .25rem .7rem; border-bottom: 1px solid #eee; text-align: right; }
th[scope=row], thead th:first-child { text-align: left; } .meta { color: #555; } .note { color: #777; font-style: italic; }
pre { background: #f6f6f6; padding: .8rem; overflow-x: auto; font-size: 12px; } svg { max-width: 100%; height: auto; }
`;

/**
 * The self-contained report page: inline CSS and inline SVG only (no scripts, no external
 * resources), so it reads offline and in any browser.
 */
export function reportHtml(summary: RunSummary, charts: readonly ChartSection[]): string {
  const title = summary.pipeline.name ?? 'bevzip compression run';
  const stages = summary.pipeline.stages.map((s) => `<li><b>${escapeHtml(s.name)}</b>: ${s.steps} steps; plugins ${escapeHtml(s.plugins.join(', ') || '(none)')}</li>`).join('');
  const sections = charts
    .map((c) => `<section id="${escapeHtml(c.id)}"><h2>${escapeHtml(c.title)}</h2>${c.svg ? `<figure>${c.svg.replace(/^<\?xml[^>]*>\s*/, '')}</figure>` : `<p class="note">${escapeHtml(c.note ?? 'no data')}</p>`}</section>`)
    .join('\n');
  const warnings = summary.warnings.length ? `<h2>Warnings</h2><ul>${summary.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="meta">model ${escapeHtml(summary.model)}${summary.teacher ? `, teacher ${escapeHtml(summary.teacher)}` : ''}; ${escapeHtml(summary.data)}; seed ${summary.seed}; started ${escapeHtml(summary.startedAt)}, ${summary.seconds.toFixed(0)} s${summary.resumedFrom ? `; resumed at stage ${summary.resumedFrom.stage} step ${summary.resumedFrom.step}` : ''}</p>
<h2>Results</h2>
${metricsTable(summary.models)}
<h2>Pipeline</h2>
<ol>${stages}</ol>
<details><summary>${escapeHtml(summary.pipeline.file)}</summary><pre>${escapeHtml(summary.pipeline.text)}</pre></details>
${sections}
${warnings}
</body></html>
`;
}
