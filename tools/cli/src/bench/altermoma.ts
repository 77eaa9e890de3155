import * as tf from '@tensorflow/tfjs';
import {
  exportOnnx,
  initBackend,
  ParamStore,
  Pipeline,
  run,
  type Graph,
  type Plugin,
  type StageConfig,
} from '@bevzip/ir';
import type { Frame, FrameEvaluation } from '@bevzip/driving-data';
import {
  BEV_FUSION_CONFIGS,
  buildBevFusion,
  describeModel,
  feedsOf,
  frameDataSource,
  loadModelCheckpoint,
  syntheticFrames,
  targetTensors,
  taskConfigForModel,
  taskLoss,
  validateModel,
  type EvaluatedSplit,
  type HostTargets,
  type TaskConfig,
} from '@bevzip/bev-fusion';
import { headDistill, impStages, PRUNING_CRITERIA, removePrunedChannels, type CriterionName } from '@bevzip/plugin-altermoma';
import { benchValidationFrames, interleavedOrtLatencies, machineWithLoad, type MethodBenchCommon } from './common';
import { nonZero, trainable, zeroWeightMacs } from './pruned-model-stats';
import { compareModels, type ProtocolComparison } from './protocol';
import { round } from './timing';

/** Settings of `bevzip bench altermoma`. */
export interface AlterMomaBenchOptions extends MethodBenchCommon {
  teacher: string;
  seeds: number[];
  /** Fine-tune steps after pruning, the same for every method. */
  steps: number;
  sparsities: number[];
  structuredSparsities: number[];
  methods: CriterionName[];
  structuredMethods: CriterionName[];
  /** Model configs whose scoring cost is measured (random weights). */
  costModels: ('micro' | 'tiny' | 'small')[];
  latencyRepeats: number;
  /** Extra AlterMOMA options (normalization, beta, rounds, layer policy…), merged over the bench's. */
  altermomaOptions?: Record<string, unknown>;
  /** IMP: rounds k (the fine-tune steps are split over them) and what each round starts from. */
  impRounds: number;
  impRewind: 'none' | 'start';
  /**
   * When set, `kdMethods` also run with response distillation from the dense model's heatmap during
   * the fine-tune, the term's gradient norm this share of the task loss's at each stage start.
   */
  fineTuneKd?: number;
  kdMethods: CriterionName[];
}

export interface AlterMomaRow {
  method: CriterionName;
  /** Gradient share of the fine-tune's distillation term; null without distillation. */
  kd: number | null;
  sparsity: number;
  structured: boolean;
  /** Means over the seeds. */
  mAP: number;
  NDS: number;
  /** Map-head mIoU and the task loss on the validation frames (smoother than mAP on a small set). */
  mIoU: number;
  valLoss: number;
  perSeed: { seed: number; mAP: number; NDS: number; mIoU: number; valLoss: number }[];
  /** Structured: 1 − MACs after channel removal / dense MACs. Unstructured: the MACs of the zeroed weights (what a sparse kernel could skip). */
  flopsReduction: number;
  /** Trainable parameters left (structured: after removal; unstructured: non-zero). */
  params: number;
  /** Structured: median onnxruntime latency of the pruned model over the dense one; null when unstructured (dense kernels). */
  ortLatencyRatio: number | null;
  scoringSeconds: number;
  /** With distillation: the weight the runtime set for the term at each stage start, and the term's mean value over the first and the last 10 steps (all seeds). */
  kdTerm?: { weights: number[]; first: number; last: number };
}

export interface AlterMomaBenchReport {
  teacher: { ref: string; training?: Record<string, unknown> };
  dense: {
    mAP: number;
    NDS: number;
    mIoU: number;
    valLoss: number;
    params: number;
    gmacs: number;
    ortMs: number;
  };
  rows: AlterMomaRow[];
  scoringCost: { model: string; params: number; method: CriterionName; seconds: number; peakMB: number }[];
  /** Every pruned model (seeds pooled) against the dense teacher under the evaluation protocol. */
  comparison: ProtocolComparison;
  settings: Omit<AlterMomaBenchOptions, 'log'> & { valFrames: number; trainFrames: number; split: EvaluatedSplit };
  machine: { cpus: number; cpuModel: string; node: string; backend: string; loadAverage: number[] };
  seconds: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** A pruning criterion with the scoring settings the pruning benches share. */
export function pluginFor(
  method: CriterionName,
  sparsity: number,
  structured: boolean,
  o: Partial<Pick<AlterMomaBenchOptions, 'altermomaOptions' | 'impRounds' | 'impRewind'>> = {},
): Plugin {
  const extra =
    method === 'altermoma'
      ? { scoringBatches: 2, reactivationSteps: 4, ...o.altermomaOptions }
      : method === 'synflow'
        ? { iterations: 20 }
        : method === 'snip'
          ? { scoringBatches: 2 }
          : method === 'imp'
            ? { rounds: o.impRounds, rewind: o.impRewind }
            : {};
  return (PRUNING_CRITERIA[method] as (o: object) => Plugin)({ sparsity, structured, ...extra });
}

interface Setup {
  graph: Graph;
  params: ParamStore;
  cfg: TaskConfig;
  train: Frame[];
  val: Frame[];
  o: AlterMomaBenchOptions;
}

const lossFor = (cfg: TaskConfig) => (outputs: Record<string, tf.Tensor>, batch: { targets?: unknown }) =>
  taskLoss(
    { heatmap: outputs.heatmap, reg: outputs.reg, map: outputs.map },
    targetTensors(batch.targets as HostTargets),
    cfg,
  ).total;

/** Mean task loss over the validation frames, two at a time, in the interpreter. */
async function validationLoss(g: Graph, p: ParamStore, s: Pick<Setup, 'val' | 'cfg'>): Promise<number> {
  const source = frameDataSource(s.val, s.cfg, 2, 0);
  const steps = Math.ceil(s.val.length / 2);
  let total = 0;
  for (let step = 0; step < steps; step++) {
    const batch = await source.batch(step, { seed: 0, stage: 'val' });
    total += tf.tidy(() => lossFor(s.cfg)(run(g, p, batch.feeds).outputs, batch).dataSync()[0]);
    Object.values(batch.feeds).forEach((t) => t.dispose());
  }
  return total / steps;
}

/**
 * Prunes with one criterion, fine-tunes, and returns the result with the scoring time. IMP's steps
 * are split over its rounds (one stage each), so every criterion trains for `steps` in total; with
 * `kd`, every stage distils the dense model's heatmap (the runtime runs it as the stage's teacher).
 */
async function pruneAndFinetune(s: Setup, plugin: Plugin, seed: number, steps: number, { kd, rounds = 1 }: { kd?: number; rounds?: number } = {}) {
  const stage: StageConfig = {
    name: 'prune-finetune',
    steps,
    data: frameDataSource(s.train, s.cfg, s.o.batchSize, seed),
    taskLoss: lossFor(s.cfg),
    optimizer: { kind: 'adamw' as const, lr: s.o.lr, weightDecay: 0.01 },
    schedule: { kind: 'cosine' as const, totalSteps: Math.max(steps, 1) },
    clipNorm: 35,
    teacher: kd === undefined ? undefined : { graph: s.graph, params: s.params },
  };
  const stages = rounds > 1 ? impStages(stage, rounds) : [stage];
  const pipeline = new Pipeline({ seed, graph: s.graph, params: s.params, stages }).use(plugin);
  if (kd !== undefined) pipeline.use(headDistill({ outputs: ['heatmap'], gradientShare: kd }));
  let started = 0;
  let scored = 0;
  const kdTerm = { weights: [] as number[], values: [] as number[] };
  pipeline.events.subscribe((e) => {
    if (e.type === 'metric' && e.name === 'weight/prune-kd/heatmap') kdTerm.weights.push(e.value);
    if (e.type === 'step' && 'prune-kd/heatmap' in e.losses) kdTerm.values.push(e.losses['prune-kd/heatmap']);
    if (e.type === 'run-start') started = performance.now();
    // The first round's scoring (IMP scores again at each later round, inside the fine-tune time).
    if (e.type === 'stage-start' && scored === 0) scored = performance.now();
  });
  const result = await pipeline.run();
  return { result, scoringSeconds: (scored - started) / 1000, kdTerm };
}

async function scoringCost(
  o: AlterMomaBenchOptions,
  frames: Frame[],
): Promise<AlterMomaBenchReport['scoringCost']> {
  const out: AlterMomaBenchReport['scoringCost'] = [];
  for (const model of o.costModels) {
    const graph = buildBevFusion(BEV_FUSION_CONFIGS[model], 'fusion');
    const params = ParamStore.init(graph, 0);
    const cfg = taskConfigForModel(BEV_FUSION_CONFIGS[model], 'fusion');
    for (const method of o.methods) {
      const setup: Setup = { graph, params, cfg, train: frames, val: [], o };
      const start = performance.now();
      const profile = await tf.profile(async () => {
        // One scoring pass: IMP with a single round (each of its rounds costs one magnitude pass).
        const { result } = await pruneAndFinetune(setup, pluginFor(method, 0.8, false, { ...o, impRounds: 1 }), 0, 0);
        result.params.dispose();
        result.masks.params.forEach((m) => m.dispose());
      });
      const seconds = (performance.now() - start) / 1000;
      out.push({
        model,
        params: trainable(graph, params),
        method,
        seconds: round(seconds, 2),
        peakMB: round(profile.peakBytes / 2 ** 20, 1),
      });
      o.log(
        `scoring cost ${model} ${method}: ${seconds.toFixed(1)} s, peak ${(profile.peakBytes / 2 ** 20).toFixed(1)} MB`,
      );
    }
    params.dispose();
  }
  return out;
}

/**
 * Prunes the shipped tiny fusion teacher with AlterMOMA and the baselines at each sparsity and seed,
 * fine-tunes each with the same budget, evaluates mAP/NDS on the synthetic validation set, and for
 * channel pruning removes the channels and times the exported models in onnxruntime.
 */
export async function benchAlterMoma(o: AlterMomaBenchOptions): Promise<AlterMomaBenchReport> {
  const began = performance.now();
  await initBackend({});
  const teacher = loadModelCheckpoint(o.teacher);
  const cfg = taskConfigForModel(teacher.info.config, teacher.info.modality);
  o.log(`generating ${o.trainScenes * 3} training frames`);
  const train = syntheticFrames(0, 0, o.trainScenes, 3);
  const { frames: val, split } = benchValidationFrames(o);
  const s: Setup = { graph: teacher.graph, params: teacher.params, cfg, train, val, o };
  const evaluate = async (g: Graph, p: ParamStore) => {
    const m = await validateModel(g, p, val, cfg, { runtime: 'onnxruntime' });
    return { mAP: m.mAP, NDS: m.NDS, mIoU: m.mIoU, valLoss: await validationLoss(g, p, s), perFrame: m.perFrame };
  };
  const denseMetrics = await evaluate(teacher.graph, teacher.params);
  const denseMacs = describeModel(teacher.graph).total.macs;
  const denseOnnx = exportOnnx(teacher.graph, teacher.params);
  const latencyFeeds = feedsOf(val.slice(0, 1), cfg);
  const [denseMs] = await interleavedOrtLatencies([denseOnnx], latencyFeeds, o.latencyRepeats);
  o.log(
    `dense: mAP ${denseMetrics.mAP.toFixed(4)} NDS ${denseMetrics.NDS.toFixed(4)} mIoU ${denseMetrics.mIoU.toFixed(4)} loss ${denseMetrics.valLoss.toFixed(4)}, ${(denseMacs / 1e9).toFixed(3)} GMACs, ${denseMs.toFixed(1)} ms`,
  );
  const rows: AlterMomaRow[] = [];
  const rowFrames: FrameEvaluation[][] = [];
  const kdShare = o.fineTuneKd ?? null;
  const plan = [
    ...o.sparsities.flatMap((sp) => [
      ...o.methods.map((m) => ({ method: m, sparsity: sp, structured: false, kd: null as number | null })),
      ...(kdShare === null ? [] : o.kdMethods.map((m) => ({ method: m, sparsity: sp, structured: false, kd: kdShare }))),
    ]),
    ...o.structuredSparsities.flatMap((sp) =>
      o.structuredMethods.map((m) => ({ method: m, sparsity: sp, structured: true, kd: null as number | null })),
    ),
  ];
  for (const [i, cell] of plan.entries()) {
    const perSeed: (AlterMomaRow['perSeed'][number] & { perFrame: FrameEvaluation })[] = [];
    const extras = {
      flops: [] as number[],
      params: [] as number[],
      latency: [] as number[],
      scoring: [] as number[],
      kdWeights: [] as number[],
      kdFirst: [] as number[],
      kdLast: [] as number[],
    };
    for (const seed of o.seeds) {
      const { result, scoringSeconds, kdTerm } = await pruneAndFinetune(
        s,
        pluginFor(cell.method, cell.sparsity, cell.structured, o),
        seed,
        o.steps,
        { kd: cell.kd ?? undefined, rounds: cell.method === 'imp' ? o.impRounds : 1 },
      );
      try {
        if (cell.structured) {
          const removed = removePrunedChannels(result.graph, result.params, result.masks);
          try {
            const m = await evaluate(removed.graph, removed.params);
            perSeed.push({ seed, ...m });
            extras.flops.push(1 - describeModel(removed.graph).total.macs / denseMacs);
            extras.params.push(trainable(removed.graph, removed.params));
            const [d, p] = await interleavedOrtLatencies(
              [denseOnnx, exportOnnx(removed.graph, removed.params)],
              latencyFeeds,
              o.latencyRepeats,
            );
            extras.latency.push(p / d);
          } finally {
            removed.params.dispose();
          }
        } else {
          const m = await evaluate(result.graph, result.params);
          perSeed.push({ seed, ...m });
          extras.flops.push(zeroWeightMacs(result.graph, result.params) / denseMacs);
          extras.params.push(nonZero(result.graph, result.params));
        }
        extras.scoring.push(scoringSeconds);
        if (kdTerm.values.length > 0) {
          extras.kdWeights.push(...kdTerm.weights);
          extras.kdFirst.push(mean(kdTerm.values.slice(0, 10)));
          extras.kdLast.push(mean(kdTerm.values.slice(-10)));
        }
      } finally {
        result.params.dispose();
        result.masks.params.forEach((m) => m.dispose());
        result.masks.features.forEach((m) => m.dispose());
      }
      const last = perSeed[perSeed.length - 1];
      o.log(
        `[${i + 1}/${plan.length}] ${cell.method}${cell.kd === null ? '' : '+kd'} ${cell.structured ? 'structured' : 'unstructured'} ${cell.sparsity} seed ${seed}: mAP ${last.mAP.toFixed(4)} NDS ${last.NDS.toFixed(4)} mIoU ${last.mIoU.toFixed(4)} loss ${last.valLoss.toFixed(4)} (${((performance.now() - began) / 1000).toFixed(0)} s)`,
      );
    }
    rows.push({
      ...cell,
      mAP: round(mean(perSeed.map((p) => p.mAP)), 4),
      NDS: round(mean(perSeed.map((p) => p.NDS)), 4),
      mIoU: round(mean(perSeed.map((p) => p.mIoU)), 4),
      valLoss: round(mean(perSeed.map((p) => p.valLoss)), 4),
      perSeed: perSeed.map((p) => ({
        seed: p.seed,
        mAP: round(p.mAP, 4),
        NDS: round(p.NDS, 4),
        mIoU: round(p.mIoU, 4),
        valLoss: round(p.valLoss, 4),
      })),
      flopsReduction: round(mean(extras.flops), 4),
      params: Math.round(mean(extras.params)),
      ortLatencyRatio: cell.structured ? round(mean(extras.latency), 3) : null,
      scoringSeconds: round(mean(extras.scoring), 2),
      ...(extras.kdFirst.length > 0
        ? { kdTerm: { weights: extras.kdWeights.map((w) => round(w, 4)), first: round(mean(extras.kdFirst), 6), last: round(mean(extras.kdLast), 6) } }
        : {}),
    });
    rowFrames.push(perSeed.map((p) => p.perFrame));
  }
  Object.values(latencyFeeds).forEach((t) => t.dispose());
  const cost = await scoringCost(o, train.slice(0, 8));
  const dense = {
    mAP: round(denseMetrics.mAP, 4),
    NDS: round(denseMetrics.NDS, 4),
    mIoU: round(denseMetrics.mIoU, 4),
    valLoss: round(denseMetrics.valLoss, 4),
    params: trainable(teacher.graph, teacher.params),
    gmacs: round(denseMacs / 1e9, 4),
    ortMs: round(denseMs, 2),
  };
  teacher.params.dispose();
  o.log('bootstrap intervals');
  const pct = (v: number) => `${(v * 100).toFixed(1)}`;
  const { text: _text, ...comparison } = compareModels([
    { name: 'dense', evals: [denseMetrics.perFrame], extra: { mIoU: pct(dense.mIoU), 'val loss': dense.valLoss.toFixed(3), 'MACs −%': '0.0', params: String(dense.params), 'ORT ×': '1' } },
    ...rows.map((r, i) => ({
      name: `${r.method}${r.kd === null ? '' : '+kd'} ${r.structured ? 'channels' : 'weights'} ${pct(r.sparsity)}%`,
      evals: rowFrames[i],
      extra: { mIoU: pct(r.mIoU), 'val loss': r.valLoss.toFixed(3), 'MACs −%': pct(r.flopsReduction), params: String(r.params), 'ORT ×': r.ortLatencyRatio === null ? '' : r.ortLatencyRatio.toFixed(3) },
    })),
  ]);
  const { log: _log, ...settings } = o;
  return {
    teacher: { ref: o.teacher, training: teacher.info.training },
    dense,
    rows,
    scoringCost: cost,
    comparison,
    settings: { ...settings, valFrames: val.length, trainFrames: train.length, split },
    machine: machineWithLoad(),
    seconds: round((performance.now() - began) / 1000, 1),
  };
}

export { formatAlterMomaTable } from './altermoma-table';
