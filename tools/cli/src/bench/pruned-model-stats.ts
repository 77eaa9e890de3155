import { sizeOf, type Graph, type ParamStore } from '@bevzip/ir';

// Size and compute counts of a pruned model, for the pruning benchmarks' tables.

/** Parameters of the trainable params (what pruning and the tables count). */
export const trainable = (g: Graph, params: ParamStore) =>
  g.params.filter((p) => p.trainable).reduce((n, p) => n + params.get(p.name).size, 0);
/** Non-zero values of the trainable params. */
export const nonZero = (g: Graph, params: ParamStore) =>
  g.params
    .filter((p) => p.trainable)
    .reduce(
      (n, p) =>
        n + (params.get(p.name).dataSync() as Float32Array).reduce((c, v) => c + (v !== 0 ? 1 : 0), 0),
      0,
    );

/** MACs per sample skipped by the zero weights of conv2d/dense kernels (one MAC per weight per output position). */
export function zeroWeightMacs(g: Graph, params: ParamStore): number {
  const cameras = typeof g.meta?.cameras === 'number' ? g.meta.cameras : 1;
  let macs = 0;
  for (const node of g.nodes) {
    if (node.op !== 'conv2d' && node.op !== 'dense') continue;
    const w = params.get(node.inputs[1]).dataSync() as Float32Array;
    const out = g.values[node.outputs[0]].shape;
    const lead = node.scope.startsWith('encoders.camera') ? cameras : 1;
    const positions = sizeOf(out.map((d, i) => (d === -1 ? (i === 0 ? lead : 1) : d))) / out[out.length - 1];
    macs += w.reduce((c, v) => c + (v === 0 ? 1 : 0), 0) * positions;
  }
  return macs;
}
