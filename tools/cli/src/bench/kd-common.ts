import { ParamStore, type Graph } from '@bevzip/ir';
import { onnx } from 'onnx-proto';
import { buildBevFusion, BEV_FUSION_CONFIGS, loadModelCheckpoint } from '@bevzip/bev-fusion';

// Shared by the distillation benchmarks: model references and parameter counts (evaluation and
// machine facts are in ./common).

/** A checkpoint (`builtin:tiny-camera`, a directory) or `random:<config>`: fresh weights of that config and modality. */
export function loadModelRefFor(ref: string, modality: 'camera' | 'lidar' | 'fusion'): { graph: Graph; params: ParamStore } {
  if (ref.startsWith('random:')) {
    const graph = buildBevFusion(BEV_FUSION_CONFIGS[ref.slice(7) as keyof typeof BEV_FUSION_CONFIGS], modality);
    return { graph, params: ParamStore.init(graph, 0) };
  }
  return loadModelCheckpoint(ref);
}

/** Trainable and frozen weights, batch-norm running statistics excluded. */
export function paramCount(graph: Graph): number {
  return graph.params.filter((p) => p.role !== 'state').reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
}

/** Nodes and initializer values of an ONNX model: equal for two models means no extra part in either. */
export function onnxCounts(model: Uint8Array): { nodes: number; initializerValues: number } {
  const m = onnx.ModelProto.decode(model);
  const size = (t: onnx.ITensorProto) => (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1);
  return { nodes: m.graph!.node!.length, initializerValues: m.graph!.initializer!.reduce((n, t) => n + size(t), 0) };
}
