import type { Observable } from 'rxjs';
import { BevzipError, ERROR_CODES, ParamStore, type Graph, type StageConfig, type TrainEvent } from '@bevzip/ir';
import { onnx } from 'onnx-proto';
import type { Frame } from '@bevzip/driving-data';
import { buildBevFusion, BEV_FUSION_CONFIGS, frameDataSource, loadModelCheckpoint, type TaskConfig } from '@bevzip/bev-fusion';
import { pipelineTaskLoss } from '../pipeline/data';

// Shared by the distillation benchmarks: model references and parameter counts (evaluation and
// machine facts are in ./common).

/** A checkpoint (`builtin:tiny-camera`, a directory) or `random:<config>`: fresh weights of that config and modality. */
export function loadModelRefFor(ref: string, modality: 'camera' | 'lidar' | 'fusion'): { graph: Graph; params: ParamStore } {
  if (ref.startsWith('random:')) {
    const name = ref.slice(7);
    const config = BEV_FUSION_CONFIGS[name as keyof typeof BEV_FUSION_CONFIGS];
    if (!config) throw new BevzipError(ERROR_CODES.CONFIG, `unknown config '${name}' in '${ref}'; expected random:${Object.keys(BEV_FUSION_CONFIGS).join(', random:')} or a checkpoint`);
    const graph = buildBevFusion(config, modality);
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

/**
 * The one training stage of a distillation bench run: batches of `train` built for `dataCfg` (so
 * any teacher finds its feeds), the task loss of `lossCfg`, AdamW (decay 0.01) with a cosine
 * schedule over the stage and gradient-norm clip 35, as every variant of every bench uses.
 */
export function benchStage(
  name: string,
  o: { steps: number; batchSize: number; lr: number; seed: number },
  data: { train: readonly Frame[]; dataCfg: TaskConfig; lossCfg: TaskConfig },
  teacher?: StageConfig['teacher'],
): StageConfig {
  return {
    name,
    steps: o.steps,
    data: frameDataSource(data.train, data.dataCfg, o.batchSize, o.seed),
    taskLoss: pipelineTaskLoss(data.lossCfg),
    teacher,
    optimizer: { kind: 'adamw', lr: o.lr, weightDecay: 0.01 },
    schedule: { kind: 'cosine', totalSteps: Math.max(o.steps, 1) },
    clipNorm: 35,
  };
}

/** Logs a run's losses `times` times over its `steps`, and every warning, each line led by `label`. */
export function logRunProgress(events: Observable<TrainEvent>, label: string, steps: number, times: number, log: (line: string) => void): void {
  events.subscribe((e) => {
    if (e.type === 'step' && (e.step + 1) % Math.max(1, Math.floor(steps / times)) === 0) {
      log(`  ${label} step ${e.step + 1}/${steps} ${Object.entries(e.losses).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(' ')}`);
    }
    if (e.type === 'warning') log(`  warning: ${e.message}`);
  });
}
