import * as tf from '@tensorflow/tfjs';
import type { Graph, ParamStore } from '@bevzip/ir';

/** Zeros of one weight param after its mask. */
export interface LayerSparsity {
  name: string;
  modality: string;
  stage: string;
  size: number;
  zeros: number;
}

/** Sparsity of a model's weights per layer, per modality and overall. */
export interface SparsityReport {
  layers: LayerSparsity[];
  modalities: { modality: string; size: number; zeros: number }[];
  total: { size: number; zeros: number };
}

/** A bit-width a quantizer reported (in its export report) for a weight param or an activation. */
export interface BitWidth {
  name: string;
  kind: 'weight' | 'activation';
  bits: number;
}

/** Host values of a param with its mask (if any) applied. */
function maskedValues(params: ParamStore, name: string, masks?: ReadonlyMap<string, tf.Tensor>): Float32Array {
  const mask = masks?.get(name);
  return tf.tidy(() => (mask ? tf.mul(params.get(name), mask) : params.get(name)).dataSync() as Float32Array);
}

/** Zero counts of every weight param (role `weight`), grouped by the param's modality tag. */
export function sparsityOf(graph: Graph, params: ParamStore, masks?: ReadonlyMap<string, tf.Tensor>): SparsityReport {
  const layers = graph.params
    .filter((p) => p.role === 'weight')
    .map((p) => {
      const v = maskedValues(params, p.name, masks);
      let zeros = 0;
      for (const x of v) if (x === 0) zeros++;
      return { name: p.name, modality: p.tags.modality ?? 'shared', stage: p.tags.stage ?? '', size: v.length, zeros };
    });
  const byModality = new Map<string, { modality: string; size: number; zeros: number }>();
  for (const l of layers) {
    const m = byModality.get(l.modality) ?? { modality: l.modality, size: 0, zeros: 0 };
    m.size += l.size;
    m.zeros += l.zeros;
    byModality.set(l.modality, m);
  }
  const total = layers.reduce((t, l) => ({ size: t.size + l.size, zeros: t.zeros + l.zeros }), { size: 0, zeros: 0 });
  return { layers, modalities: [...byModality.values()], total };
}
