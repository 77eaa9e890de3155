import type { LossTerm, LossTerms, PruneLayersReport } from './prune-layers';

const pct = (v: number) => (v * 100).toFixed(1);
const termName = (t: LossTerm) => (t === 'total' ? 'task loss' : t === 'detection' ? 'detection loss (heatmap + reg)' : 'map loss');
const termCells = (t: LossTerms) => `${t.heatmap.toFixed(4).padStart(8)} ${t.reg.toFixed(4).padStart(7)} ${t.map.toFixed(4).padStart(7)} ${t.total.toFixed(4).padStart(7)}`;
export const signed = (v: number) => (v >= 0 ? '+' : '') + v.toFixed(3);

/** The printed table: one row per prunable layer in graph order, then the whole-model losses and correlations. */
export function formatPruneLayersTable(r: PruneLayersReport): string {
  const width = Math.max(5, ...r.layers.map((l) => l.name.length));
  const ref = `Δ@${pct(r.referenceLevel)}%`;
  const head = [
    'layer'.padEnd(width),
    'tags'.padEnd(17),
    'size'.padStart(7),
    ref.padStart(9),
    ...r.criteria.map((c) => `${c.method} sp% / Δ`.padStart(20)),
  ].join(' ');
  const lines = [
    `per-layer sparsity at global ${pct(r.settings.sparsity)}% (no fine-tune) and sensitivity Δ = increase of the ${termName(r.settings.lossTerm ?? 'total')} with only that layer pruned to that level by ${r.settings.within === 'own' ? "the criterion's own mask" : 'magnitude'}; ${ref}: each layer alone pruned by magnitude to ${pct(r.referenceLevel)}%`,
    head,
    ...r.layers.map((l, i) =>
      [
        l.name.padEnd(width),
        `${l.tags.modality ?? '-'}/${l.tags.stage ?? '-'}`.padEnd(17),
        String(l.size).padStart(7),
        signed(r.referenceSensitivity[i]).padStart(9),
        ...r.criteria.map((c) => `${pct(c.layerSparsity[i]).padStart(5)} / ${signed(c.sensitivity[i]).padStart(7)}`.padStart(20)),
      ].join(' '),
    ),
    '',
    `whole model, loss over ${r.settings.lossBatches} batches of ${r.settings.batchSize} training frames (eval batch norm); Δ and Σ Δ layer of the ${termName(r.settings.lossTerm ?? 'total')}`,
    `${'criterion'.padEnd(10)} ${'sparsity'.padStart(8)} ${'heatmap'.padStart(8)} ${'reg'.padStart(7)} ${'map'.padStart(7)} ${'total'.padStart(7)} ${'Δ whole'.padStart(8)} ${'Σ Δ layer'.padStart(9)} ${`ρ(sp, ${ref})`.padStart(15)} ${'ρ(sp, Δ own)'.padStart(12)} ${'scoring s'.padStart(9)}`,
    `${'dense'.padEnd(10)} ${''.padStart(8)} ${termCells(r.denseTerms)}`,
    ...r.criteria.map((c) =>
      [
        c.method.padEnd(10),
        `${pct(c.sparsity)}%`.padStart(8),
        termCells(c.terms),
        signed(c.loss - r.denseLoss).padStart(8),
        signed(c.sensitivitySum).padStart(9),
        c.spearmanReference.toFixed(3).padStart(15),
        c.spearmanOwnLevel.toFixed(3).padStart(12),
        c.scoringSeconds.toFixed(1).padStart(9),
      ].join(' '),
    ),
    `ρ: Spearman over the ${r.layers.length} layers; negative = the criterion prunes the sensitive layers less`,
    '',
    `${r.lossEvaluations} loss evaluations, ${r.seconds.toFixed(0)} s on ${r.machine.cpus}× ${r.machine.cpuModel} (${r.machine.backend})`,
    '',
  ];
  return lines.join('\n');
}
