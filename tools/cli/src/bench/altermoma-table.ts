import type { AlterMomaBenchReport } from './altermoma';

const pct = (v: number) => `${(v * 100).toFixed(1)}`;
const pair = (r: { mAP: number; NDS: number; mIoU: number; valLoss: number }) =>
  `${pct(r.mAP)}/${pct(r.NDS)}/${pct(r.mIoU)}/${r.valLoss.toFixed(2)}`;

/** The report as tables in the layout of the paper's Tables 1 and 5 (mAP/NDS in points). */
export function formatAlterMomaTable(r: AlterMomaBenchReport): string {
  const lines: string[] = [];
  const unstructured = r.rows.filter((x) => !x.structured);
  const sps = [...new Set(unstructured.map((x) => x.sparsity))];
  const cell = (s: string, w = 24) => s.padEnd(w);
  lines.push(
    `unstructured: mAP/NDS/mIoU (points) / val loss (${r.settings.seeds.length} seeds, ${r.settings.steps} fine-tune steps, ${r.settings.valFrames} val frames)`,
  );
  lines.push(cell('method') + sps.map((sp) => cell(`${pct(sp)}%`)).join(''));
  lines.push(cell('dense') + cell(pair(r.dense)));
  for (const m of [...new Set(unstructured.map((x) => x.method))]) {
    lines.push(
      cell(m) +
        sps.map((sp) => cell(pair(unstructured.find((x) => x.method === m && x.sparsity === sp)!))).join(''),
    );
  }
  const structured = r.rows.filter((x) => x.structured);
  if (structured.length > 0) {
    lines.push(
      '',
      'structured (channels): mAP/NDS/mIoU/val loss, GMACs (reduction), params, onnxruntime latency vs dense',
    );
    lines.push(
      `${cell('dense', 22)}${pair(r.dense)}, ${r.dense.gmacs.toFixed(3)}, ${r.dense.params}, ${r.dense.ortMs.toFixed(1)} ms`,
    );
    for (const x of structured) {
      const gmacs = r.dense.gmacs * (1 - x.flopsReduction);
      lines.push(
        `${cell(`${x.method} ${pct(x.sparsity)}%`, 22)}${pair(x)}, ${gmacs.toFixed(3)} (−${pct(x.flopsReduction)}%), ${x.params}, ×${x.ortLatencyRatio?.toFixed(3)}`,
      );
    }
  }
  lines.push('', 'scoring cost (one scoring pass, random weights): seconds / peak tensor MB');
  for (const model of [...new Set(r.scoringCost.map((c) => c.model))]) {
    const rows = r.scoringCost.filter((c) => c.model === model);
    lines.push(
      `${cell(`${model} (${rows[0].params})`, 22)}${rows.map((c) => `${c.method} ${c.seconds.toFixed(1)} s / ${c.peakMB.toFixed(0)} MB`).join(', ')}`,
    );
  }
  lines.push(
    '',
    `${r.seconds.toFixed(0)} s on ${r.machine.cpus}× ${r.machine.cpuModel} (${r.machine.backend})`,
    '',
  );
  return lines.join('\n');
}
