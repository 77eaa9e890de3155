import type { RunSummary } from './summary';

/** A small but complete run summary, for report tests and rendering checks. */
export function sampleSummary(): RunSummary {
  const layers = ['camera.backbone.c1.weight', 'lidar.pfn.weight', 'fuser.conv.weight', 'heads.object.heatmap.weight'].map((name, i) => ({
    name,
    modality: ['camera', 'lidar', 'fusion', 'fusion'][i],
    stage: ['backbone', 'encoder', 'neck', 'head'][i],
    size: 1000,
    zeros: [800, 700, 850, 600][i],
  }));
  return {
    format: 'bevzip-summary',
    version: 2,
    pipeline: { file: '/x/p.yaml', name: 'sample run', text: 'seed: 1\n', stages: [{ name: 'prune', steps: 0, plugins: ['p'] }, { name: 'tune', steps: 20, plugins: ['q'] }] },
    model: 'builtin:tiny-fusion',
    teacher: 'model',
    data: 'synthetic seed 0',
    seed: 1,
    startedAt: '2026-01-01T00:00:00.000Z',
    seconds: 12,
    models: [
      { name: 'dense', mAP: 0.3, NDS: 0.35, mIoU: 0.6, params: 4000, nonZero: 4000, onnxMB: 2.1, latencyMs: 10, evaluatedWith: 'onnxruntime', notes: [] },
      { name: 'compressed', mAP: 0.25, NDS: 0.3, mIoU: 0.55, params: 4000, nonZero: 1050, onnxMB: 0.6, latencyMs: 4, evaluatedWith: 'onnxruntime', notes: ['q: QDQ int8'] },
    ],
    sparsity: {
      layers,
      modalities: [
        { modality: 'camera', size: 1000, zeros: 800 },
        { modality: 'lidar', size: 1000, zeros: 700 },
        { modality: 'fusion', size: 2000, zeros: 1450 },
      ],
      total: { size: 4000, zeros: 2950 },
    },
    bitWidths: layers.map((l, i) => ({ name: l.name, kind: 'weight' as const, bits: i === 0 || i === 3 ? 8 : 4 })),
    artifacts: ['summary.json'],
    warnings: [],
  };
}

/** An event log of the sample's 20 tuning steps with two loss terms. */
export function sampleEvents(): string {
  return Array.from({ length: 20 }, (_, step) => {
    const losses = { task: 2 / (1 + step), 'q/kd': 1 / (1 + 0.5 * step) };
    return JSON.stringify({ type: 'step', stage: 'tune', step, losses, total: losses.task + losses['q/kd'], lr: 1e-3, samplesPerSec: 1, gradNorm: 1 });
  }).join('\n');
}
