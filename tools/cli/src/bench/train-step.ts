import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import {
  buildBevFusion,
  disposeStreamBatch,
  taskConfigForModel,
  taskLoss,
  TINY_CONFIG,
  WorkerBatchStream,
  type HeadOutputs,
  type StreamBatch,
  type TaskConfig,
} from '@bevzip/bev-fusion';
import { clipGradNorm, createOptimizer, initBackend, ParamStore, run, type Graph, type Optimizer } from '@bevzip/ir';
import { profileStep, type KernelTime } from './step-profile';
import { TorchTwinServer, writeTwinBatch } from './torch-twin';
import { round } from './timing';

/** The JSON printed by `bevzip bench train-step --json`. */
export interface TrainStepBenchReport {
  backend: string;
  model: string;
  batchSize: number;
  steps: number;
  /** Median wall time of one training step (forward, loss, backward, clip, AdamW), data excluded. */
  bevzipStepMs: number;
  /** Median step of the PyTorch twin at 1 and 2 threads (null when it could not run). */
  torchStepMs1: number | null;
  torchStepMs2: number | null;
  /** Median over rounds of (bevzip step / twin step), the twin's step taken right after ours. */
  ratioVsTorch1: number | null;
  ratioVsTorch2: number | null;
  /** Share of the training loop's wall time spent waiting for the worker's batches. */
  dataStallFraction: number;
  workerMsPerBatch: number;
  /** Kernels of one profiled step, most expensive first. */
  profile: KernelTime[];
  profiledStepMs: number;
  torchError?: string;
  targets: { ratioVsTorch1: number; dataStallFraction: number };
  machine: { cpus: number; node: string; loadavg: number[] };
}

/** Options of {@link benchTrainStep}. */
export interface TrainStepBenchOptions {
  steps?: number;
  warmup?: number;
  /** Kernels listed in the profile. */
  top?: number;
  /** Skip the PyTorch twin (its figures are then null). */
  skipTorch?: boolean;
  python?: string;
}

interface Trainer {
  graph: Graph;
  params: ParamStore;
  optimizer: Optimizer;
  task: TaskConfig;
}

/** One step as the runtime takes it without plugins; returns the loss after a host sync. */
function trainOnce(t: Trainer, batch: StreamBatch): number {
  let state: Record<string, tf.Tensor> = {};
  const vars = t.params.trainableVariables();
  const { value, grads } = tf.variableGrads(() => {
    const res = run(t.graph, t.params, batch.feeds, { training: true });
    state = Object.fromEntries(Object.entries(res.state).map(([k, v]) => [k, tf.keep(v)]));
    return taskLoss(res.outputs as unknown as HeadOutputs, batch.targets, t.task).total;
  }, vars);
  const paramOf = new Map(t.params.names().map((n) => [t.params.get(n).name, n]));
  const byParam = new Map(Object.entries(grads).map(([v, g]) => [paramOf.get(v) ?? v, g]));
  const clipped = clipGradNorm(byParam, 35);
  t.optimizer.step(clipped.grads, t.params, 1e-3);
  for (const [name, s] of Object.entries(state)) t.params.get(name).assign(s);
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads), ...clipped.grads.values(), ...Object.values(state)]);
  return loss;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Times training steps of the tiny fusion model (batch 2, AdamW, clip 35) on the default backend
 * with batches from the worker-thread stream, and the PyTorch twin
 * (`tools/bench/torch_bevfusion_tiny.py`, on the first batch) at 1 and 2 threads in alternation
 * with them: each round takes one bevzip step, then one step of each twin. The ratios are medians
 * of the per-round ratios, so load that drifts during the run weighs on both sides alike. Last, one
 * step is profiled by kernel.
 */
export async function benchTrainStep(options: TrainStepBenchOptions = {}): Promise<TrainStepBenchReport> {
  const steps = options.steps ?? 10;
  const warmup = options.warmup ?? 3;
  const backend = await initBackend({ quiet: true });
  const graph = buildBevFusion(TINY_CONFIG, 'fusion');
  const task = taskConfigForModel(TINY_CONFIG, 'fusion');
  const trainer: Trainer = {
    graph,
    params: ParamStore.init(graph, 0),
    optimizer: createOptimizer({ kind: 'adamw', lr: 1e-3, weightDecay: 0.01 }, graph),
    task,
  };
  const stream = new WorkerBatchStream({ seed: 0, batchSize: 2, task, prefetch: 2 });
  const times: number[] = [];
  const twinTimes: [number[], number[]] = [[], []];
  let twins: TorchTwinServer[] = [];
  let torchError: string | undefined;
  let profiled: { kernels: KernelTime[]; wallMs: number };
  try {
    for (let s = 0; s < warmup + steps; s++) {
      if (s === warmup) stream.resetStats();
      const batch = await stream.batch(s);
      if (s === 0 && !options.skipTorch) {
        const batchFile = writeTwinBatch(batch);
        try {
          twins = await Promise.all([1, 2].map((threads) => TorchTwinServer.start(threads, { batchFile, python: options.python, warmup })));
        } catch (e) {
          torchError = (e as Error).message;
        }
      }
      const start = performance.now();
      trainOnce(trainer, batch);
      const ms = performance.now() - start;
      disposeStreamBatch(batch);
      if (s < warmup) continue;
      times.push(ms);
      try {
        for (const [i, twin] of twins.entries()) twinTimes[i].push(await twin.step());
      } catch (e) {
        torchError = (e as Error).message;
        twins = [];
      }
    }
    const batch = await stream.batch(warmup + steps);
    profiled = await profileStep(() => trainOnce(trainer, batch), options.top ?? 12);
    disposeStreamBatch(batch);
  } finally {
    for (const twin of twins) twin.close();
    await stream.close();
  }
  const stats = stream.stats();
  trainer.optimizer.dispose();
  trainer.params.dispose();

  const bevzipStepMs = median(times);
  const complete = (t: number[]) => t.length === times.length;
  const twinMs = (i: 0 | 1) => (complete(twinTimes[i]) ? round(median(twinTimes[i]), 1) : null);
  const pairedRatio = (i: 0 | 1) => (complete(twinTimes[i]) ? round(median(times.map((t, k) => t / twinTimes[i][k])), 2) : null);
  return {
    backend,
    model: 'tiny (fusion)',
    batchSize: 2,
    steps,
    bevzipStepMs: round(bevzipStepMs, 1),
    torchStepMs1: twinMs(0),
    torchStepMs2: twinMs(1),
    ratioVsTorch1: pairedRatio(0),
    ratioVsTorch2: pairedRatio(1),
    dataStallFraction: round(stats.stallFraction, 4),
    workerMsPerBatch: round(stats.workerMsPerBatch, 1),
    profile: profiled.kernels,
    profiledStepMs: round(profiled.wallMs, 1),
    ...(torchError ? { torchError } : {}),
    targets: { ratioVsTorch1: 2.5, dataStallFraction: 0.05 },
    machine: { cpus: os.cpus().length, node: process.version, loadavg: os.loadavg().map((v) => round(v, 2)) },
  };
}

/** The human-readable table of a train-step report. */
export function formatTrainStep(r: TrainStepBenchReport): string {
  const ms = (v: number | null) => (v === null ? 'n/a' : `${v} ms`);
  const x = (v: number | null) => (v === null ? 'n/a' : `${v}×`);
  const lines = [
    `backend                  ${r.backend}   model ${r.model}, batch ${r.batchSize}, median of ${r.steps} rounds (one bevzip step, then one step of each twin)`,
    `bevzip step              ${r.bevzipStepMs} ms`,
    `PyTorch twin, 1 thread   ${ms(r.torchStepMs1)}   ratio ${x(r.ratioVsTorch1)}   (target ≤ ${r.targets.ratioVsTorch1})`,
    `PyTorch twin, 2 threads  ${ms(r.torchStepMs2)}   ratio ${x(r.ratioVsTorch2)}`,
    `data stall fraction      ${r.dataStallFraction}   (target ≤ ${r.targets.dataStallFraction}; worker ${r.workerMsPerBatch} ms/batch)`,
    ...(r.torchError ? [`PyTorch twin error: ${r.torchError}`] : []),
    '',
    `kernel profile of one step (${r.profiledStepMs} ms under the profiler):`,
    ...r.profile.map(
      (k) =>
        `  ${k.kernel.padEnd(28)} ${String(k.ms).padStart(8)} ms  ${String(Math.round(k.share * 1000) / 10).padStart(5)} %  ${String(k.calls).padStart(4)} calls   worst ${k.worstCallMs} ms ${k.worstCall}`,
    ),
    `machine: ${r.machine.cpus} cpus, node ${r.machine.node}, load ${r.machine.loadavg.join(' ')}`,
    '',
  ];
  return lines.join('\n');
}
