import type { LossPoint } from './loss-series';
import type { RunSummary } from './summary';

/** A vega-lite specification (kept as plain data; vega-lite itself is loaded only to render). */
export type VegaLiteSpec = Record<string, unknown>;

const WIDTH = 640;

/** Loss curves, one line per term, over the whole run's steps (stage boundaries as rules). */
export function lossChart(points: readonly LossPoint[], stages: RunSummary['pipeline']['stages']): VegaLiteSpec {
  let at = 0;
  const bounds = stages.slice(0, -1).map((s) => ({ step: (at += s.steps), stage: s.name }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Loss per term',
    width: WIDTH,
    height: 260,
    layer: [
      {
        data: { values: points as LossPoint[] },
        mark: { type: 'line', point: points.length < 60 },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'step (all stages)' },
          y: { field: 'value', type: 'quantitative', title: 'loss (unweighted)' },
          color: { field: 'term', type: 'nominal' },
        },
      },
      { data: { values: bounds }, mark: { type: 'rule', strokeDash: [4, 4], color: '#888' }, encoding: { x: { field: 'step', type: 'quantitative' } } },
    ],
  } as VegaLiteSpec;
}

/** Fraction of zero weights per layer, coloured by modality, in graph order. */
export function layerSparsityChart(summary: RunSummary): VegaLiteSpec {
  const values = summary.sparsity.layers.map((l, i) => ({ layer: l.name, order: i, modality: l.modality, sparsity: l.size ? l.zeros / l.size : 0, size: l.size }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Sparsity per layer',
    width: WIDTH - 200,
    height: { step: 12 },
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'layer', type: 'nominal', sort: { field: 'order' }, title: null, axis: { labelLimit: 260 } },
      x: { field: 'sparsity', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%' }, title: 'zero weights' },
      color: { field: 'modality', type: 'nominal' },
      tooltip: [{ field: 'layer' }, { field: 'size' }, { field: 'sparsity', format: '.1%' }],
    },
  } as VegaLiteSpec;
}

/** Fraction of zero weights per modality (over all its weight params). */
export function modalitySparsityChart(summary: RunSummary): VegaLiteSpec {
  const values = summary.sparsity.modalities.map((m) => ({ modality: m.modality, sparsity: m.size ? m.zeros / m.size : 0, weights: m.size }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Sparsity per modality',
    width: WIDTH - 200,
    height: { step: 22 },
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'modality', type: 'nominal', title: null },
      x: { field: 'sparsity', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%' }, title: 'zero weights' },
      color: { field: 'modality', type: 'nominal', legend: null },
    },
  } as VegaLiteSpec;
}

/** Bit-widths per weight / activation, as a quantizer reported them. */
export function bitWidthChart(summary: RunSummary): VegaLiteSpec {
  const values = summary.bitWidths.map((b, i) => ({ ...b, order: i }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Bit-width per layer',
    width: WIDTH - 200,
    height: { step: 12 },
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'name', type: 'nominal', sort: { field: 'order' }, title: null, axis: { labelLimit: 260 } },
      x: { field: 'bits', type: 'quantitative', title: 'bits', scale: { domainMin: 0 } },
      color: { field: 'kind', type: 'nominal' },
    },
  } as VegaLiteSpec;
}

/** Accuracy (mAP, NDS, mIoU) against ONNX file size for the dense and the compressed model. */
export function accuracySizeChart(summary: RunSummary): VegaLiteSpec {
  const values = summary.models.flatMap((m) =>
    (['mAP', 'NDS', 'mIoU'] as const).filter((k) => m[k] !== null).map((k) => ({ model: m.name, metric: k, value: m[k] as number, onnxMB: m.onnxMB })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Accuracy vs size',
    width: WIDTH - 200,
    height: 240,
    data: { values },
    mark: { type: 'point', filled: true, size: 90 },
    encoding: {
      x: { field: 'onnxMB', type: 'quantitative', title: 'ONNX file (MB)', scale: { zero: true } },
      y: { field: 'value', type: 'quantitative', title: 'score', scale: { domain: [0, 1] } },
      color: { field: 'metric', type: 'nominal' },
      shape: { field: 'model', type: 'nominal' },
    },
  } as VegaLiteSpec;
}
