import type { AlterMomaBenchReport } from './altermoma';
import { renderComparison } from './protocol';

/**
 * The report as the protocol table (mAP, NDS with intervals and paired differences to the dense
 * teacher, seeds pooled; mIoU and val loss in points / as measured; MACs removed — for weight
 * pruning, those of the zeroed weights a sparse kernel could skip; onnxruntime latency of channel
 * pruning vs dense) and the scoring cost of each criterion.
 */
export function formatAlterMomaTable(r: AlterMomaBenchReport): string {
  const imp = r.rows.some((row) => row.method === 'imp') ? ` (IMP: split over ${r.settings.impRounds} rounds, rewind ${r.settings.impRewind})` : '';
  const kd = r.settings.fineTuneKd === undefined ? '' : `; +kd: heatmap distillation from dense at gradient share ${r.settings.fineTuneKd}`;
  const lines: string[] = [
    renderComparison(
      r.comparison,
      `AlterMOMA and baselines: ${r.settings.seeds.length} seed(s), ${r.settings.steps} fine-tune steps${imp}${kd}; dense ${r.dense.gmacs.toFixed(3)} GMACs, ${r.dense.ortMs.toFixed(1)} ms in onnxruntime`,
    ),
  ];
  for (const row of r.rows.filter((x) => x.kdTerm))
    lines.push(`${row.method}+kd ${(row.sparsity * 100).toFixed(1)}%: distillation weight ${row.kdTerm!.weights.map((w) => w.toPrecision(3)).join(', ')}; σ-MSE ${row.kdTerm!.first.toExponential(2)} (first 10 steps) → ${row.kdTerm!.last.toExponential(2)} (last 10)`);
  if (r.rows.some((x) => x.kdTerm)) lines.push('');
  lines.push('scoring cost (one scoring pass, random weights): seconds / peak tensor MB');
  for (const model of [...new Set(r.scoringCost.map((c) => c.model))]) {
    const rows = r.scoringCost.filter((c) => c.model === model);
    lines.push(
      `${`${model} (${rows[0].params})`.padEnd(22)}${rows.map((c) => `${c.method} ${c.seconds.toFixed(1)} s / ${c.peakMB.toFixed(0)} MB`).join(', ')}`,
    );
  }
  lines.push('', `${r.seconds.toFixed(0)} s on ${r.machine.cpus}× ${r.machine.cpuModel} (${r.machine.backend})`, '');
  return lines.join('\n');
}
