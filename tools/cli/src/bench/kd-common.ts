import * as os from 'node:os';
import { createOrtSession, ParamStore, runOrt, type Graph } from '@bevzip/ir';
import { onnx } from 'onnx-proto';
import type { Frame } from '@bevzip/driving-data';
import { buildBevFusion, BEV_FUSION_CONFIGS, evaluateModel, loadModelCheckpoint, type PredictFn, type TaskConfig } from '@bevzip/bev-fusion';

// Shared by the distillation benchmarks: model references, parameter counts, onnxruntime metrics.

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

/** mAP / NDS (over the classes present) of an exported model in onnxruntime on the validation frames. */
export async function onnxMetrics(model: Uint8Array, val: Frame[], cfg: TaskConfig): Promise<{ mAP: number; NDS: number }> {
  const session = await createOrtSession(model, { threads: 1 });
  try {
    const predict: PredictFn = async (feeds) => {
      const used = Object.fromEntries(Object.entries(feeds).filter(([n]) => session.inputNames.includes(n)));
      const out = await runOrt(session, used, session.outputNames.filter((n) => ['heatmap', 'reg', 'map'].includes(n)));
      const dense = (n: string) => (out[n] ? { data: out[n].data as Float32Array, shape: out[n].dims } : undefined);
      return { heatmap: dense('heatmap')!, reg: dense('reg')!, map: dense('map') };
    };
    const res = await evaluateModel(val, predict, cfg, { batchSize: 2 });
    const m = res.presentClassMetrics ?? res.classMetrics;
    return { mAP: m.meanAp, NDS: m.ndScore };
  } finally {
    await session.release();
  }
}

export function machineInfo(): { cpus: string; cores: number; node: string; platform: string } {
  const cpus = os.cpus();
  return { cpus: cpus[0]?.model ?? 'unknown', cores: cpus.length, node: process.version, platform: `${os.platform()} ${os.arch()}` };
}
