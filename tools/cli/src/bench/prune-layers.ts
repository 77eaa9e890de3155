import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES, initBackend, Pipeline, ParamStore, run, sizeOf, type Batch, type Graph, type Plugin, type Tags } from '@bevzip/ir';
import type { Frame } from '@bevzip/driving-data';
import {
  BEV_FUSION_CONFIGS,
  buildBevFusion,
  frameDataSource,
  loadModelCheckpoint,
  syntheticFrames,
  targetTensors,
  taskConfigForModel,
  taskLoss,
  type HostTargets,
  type TaskConfig,
} from '@bevzip/bev-fusion';
import { globalTopK, PRUNING_CRITERIA, type CriterionName } from '@bevzip/plugin-altermoma';
import { pipelineTaskLoss } from '../pipeline/data';
import { round } from './timing';

/**
 * Per-layer view of unstructured pruning: how much of each layer a criterion removes at one global
 * sparsity, against how much the task loss rises when that layer alone loses that much. A criterion
 * that spares the layers the loss depends on shows a negative rank correlation between the two.
 */

/** How a layer pruned alone chooses its weights. */
export type WithinLayer = 'magnitude' | 'own';

/** Which part of the task loss the sensitivities measure: all of it, the detection terms (heatmap + box regression), or the map head's. */
export type LossTerm = 'total' | 'detection' | 'map';

/** Mean task-loss terms over the loss batches. */
export interface LossTerms {
  heatmap: number;
  reg: number;
  map: number;
  total: number;
}

/** Settings of `bevzip bench prune-layers`. */
export interface PruneLayersBenchOptions {
  /** Dense model: a checkpoint reference or `random:<config>` (a fusion model of that config). */
  teacher: string;
  /** Global unstructured sparsity every criterion prunes to. */
  sparsity: number;
  methods: CriterionName[];
  /** Frames per batch, for scoring and for the loss. */
  batchSize: number;
  /** Synthetic training scenes (3 frames each, data seed 0) the criteria score on. */
  trainScenes: number;
  /** Batches the loss is averaged over; their frames come from the scenes after the scoring scenes. */
  lossBatches: number;
  /** Weights a layer pruned alone loses: its smallest |w| (default) or the criterion's own mask on it. */
  within: WithinLayer;
  /** Loss part the sensitivities measure (default `total`); the whole-model losses are reported by term anyway. */
  lossTerm?: LossTerm;
  /** Level of the criterion-independent sensitivity the rank correlation uses (default: `sparsity`). */
  referenceLevel?: number;
  seed: number;
  /** Extra AlterMOMA options, merged over the bench's. */
  altermomaOptions?: Record<string, unknown>;
  log: (line: string) => void;
}

export interface LayerInfo {
  name: string;
  tags: Tags;
  size: number;
}

export interface CriterionLayers {
  method: CriterionName;
  /** Loss (the `lossTerm` part) of the whole pruned model (no fine-tune). */
  loss: number;
  /** Every term of the whole pruned model's loss. */
  terms: LossTerms;
  /** Σ pruned / Σ size over the prunable layers: the global sparsity as realized. */
  sparsity: number;
  /** Per layer, in layer order: the fraction this criterion removed. */
  layerSparsity: number[];
  /** Per layer: loss increase with only that layer pruned to `layerSparsity` (by `within`). */
  sensitivity: number[];
  /** Σ of `sensitivity` against the whole model's increase: how far layer effects add up. */
  sensitivitySum: number;
  /** Spearman ρ between `layerSparsity` and the reference sensitivity (negative: sensitive layers spared). */
  spearmanReference: number;
  /** Spearman ρ between `layerSparsity` and `sensitivity` (confounded: a layer pruned more loses more). */
  spearmanOwnLevel: number;
  scoringSeconds: number;
}

export interface PruneLayersReport {
  teacher: string;
  denseLoss: number;
  denseTerms: LossTerms;
  layers: LayerInfo[];
  /** Per layer: loss increase with only that layer pruned to the reference level by magnitude. */
  referenceSensitivity: number[];
  referenceLevel: number;
  criteria: CriterionLayers[];
  settings: Omit<PruneLayersBenchOptions, 'log'> & { lossFrames: number; scoringFrames: number };
  /** Forward passes over the loss batches (one per distinct masked model). */
  lossEvaluations: number;
  machine: { cpus: number; cpuModel: string; node: string; backend: string; loadAverage: number[] };
  seconds: number;
}

/** Ranks 1…n, ties sharing their mean rank. */
function ranks(xs: readonly number[]): number[] {
  const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
  const out = new Array<number>(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && xs[order[j + 1]] === xs[order[i]]) j++;
    for (let k = i; k <= j; k++) out[order[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

/**
 * Spearman's rank correlation: Pearson's correlation of the ranks, ties at their mean rank. NaN when
 * either side is constant (no ranking to correlate).
 * @throws BevzipError (E_CONFIG) when the lengths differ or fewer than 2 pairs are given.
 */
export function spearman(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length || x.length < 2)
    throw new BevzipError(ERROR_CODES.CONFIG, `spearman: expected two series of the same length ≥ 2, got ${x.length} and ${y.length}`);
  if ([...x, ...y].some((v) => !Number.isFinite(v))) throw new BevzipError(ERROR_CODES.CONFIG, 'spearman: expected finite values');
  const rx = ranks(x);
  const ry = ranks(y);
  const m = (x.length + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (rx[i] - m) * (ry[i] - m);
    sxx += (rx[i] - m) ** 2;
    syy += (ry[i] - m) ** 2;
  }
  return sxx === 0 || syy === 0 ? Number.NaN : sxy / Math.sqrt(sxx * syy);
}

/** Number of zeros in each masked param. */
export function prunedCounts(masks: ReadonlyMap<string, tf.Tensor>, layers: readonly LayerInfo[]): number[] {
  return layers.map((l) => {
    const m = masks.get(l.name);
    if (!m) return 0;
    const v = m.dataSync();
    let zeros = 0;
    for (let i = 0; i < v.length; i++) if (v[i] === 0) zeros++;
    return zeros;
  });
}

/** Mask of one weight with its `pruned` smallest |w| zeroed (ties: lower index kept first, as the criteria's threshold does). */
export function magnitudeMask(weight: tf.Tensor, pruned: number): tf.Tensor {
  const abs = Float32Array.from(weight.dataSync(), Math.abs);
  const keep = globalTopK(new Map([['w', abs]]), abs.length - pruned).get('w')!;
  return tf.tensor(Float32Array.from(keep), weight.shape);
}

/** A fixed list of batches the loss is averaged over, the same for every masked model. */
export interface LossProbe {
  /** Mean task-loss terms over the batches (eval-mode batch norm) with `masks` multiplied into the params. */
  terms(masks?: ReadonlyMap<string, tf.Tensor>): LossTerms;
  /** The probe's term of {@link terms}. */
  loss(masks?: ReadonlyMap<string, tf.Tensor>): number;
  /** Forward passes over the whole list so far. */
  readonly evaluations: number;
  dispose(): void;
}

/** One part of the loss terms. */
export function pickTerm(t: LossTerms, term: LossTerm): number {
  return term === 'total' ? t.total : term === 'detection' ? t.heatmap + t.reg : t.map;
}

/** Builds the batches of `frames` once (batch b = data-source batch b under `seed`) and keeps them. */
export async function lossProbe(
  graph: Graph,
  params: ParamStore,
  frames: readonly Frame[],
  cfg: TaskConfig,
  o: { batchSize: number; batches: number; seed: number; term?: LossTerm },
): Promise<LossProbe> {
  if (frames.length < o.batchSize * o.batches)
    throw new BevzipError(ERROR_CODES.CONFIG, `loss batches: ${o.batches} batches of ${o.batchSize} need ${o.batchSize * o.batches} frames, got ${frames.length}`);
  const source = frameDataSource(frames, cfg, o.batchSize, o.seed);
  const batches: Batch[] = [];
  for (let b = 0; b < o.batches; b++) batches.push(await source.batch(b, { seed: o.seed, stage: 'loss' }));
  let evaluations = 0;
  const terms = (masks?: ReadonlyMap<string, tf.Tensor>): LossTerms => {
    evaluations++;
    const sum = { heatmap: 0, reg: 0, map: 0, total: 0 };
    for (const batch of batches) {
      const v = tf.tidy(() => {
        const out = run(graph, params, batch.feeds, { masks }).outputs;
        const t = taskLoss({ heatmap: out.heatmap, reg: out.reg, map: out.map }, targetTensors(batch.targets as HostTargets), cfg);
        return tf.stack([t.heatmap, t.reg, t.map, t.total]).dataSync();
      });
      sum.heatmap += v[0];
      sum.reg += v[1];
      sum.map += v[2];
      sum.total += v[3];
    }
    const n = batches.length;
    return { heatmap: sum.heatmap / n, reg: sum.reg / n, map: sum.map / n, total: sum.total / n };
  };
  return {
    terms,
    loss: (masks) => pickTerm(terms(masks), o.term ?? 'total'),
    get evaluations() {
      return evaluations;
    },
    dispose() {
      for (const b of batches) Object.values(b.feeds).forEach((t) => t.dispose());
    },
  };
}

/**
 * Loss increase over `dense` when only `layer` is masked: by magnitude to `pruned` zeros, or by
 * `own` (the criterion's mask of that layer). `cache` (keyed by layer and count) saves repeated
 * magnitude levels; `own` masks are never cached since two criteria may zero different weights.
 */
export function layerSensitivity(
  probe: LossProbe,
  params: ParamStore,
  layer: string,
  dense: number,
  how: { pruned: number } | { own: tf.Tensor },
  cache?: Map<string, number>,
): number {
  const key = 'pruned' in how ? `${layer}#${how.pruned}` : undefined;
  const hit = key !== undefined ? cache?.get(key) : undefined;
  if (hit !== undefined) return hit;
  const mask = 'pruned' in how ? magnitudeMask(params.get(layer), how.pruned) : how.own;
  try {
    const value = probe.loss(new Map([[layer, mask]])) - dense;
    if (key !== undefined) cache?.set(key, value);
    return value;
  } finally {
    if ('pruned' in how) mask.dispose();
  }
}

function pluginFor(method: CriterionName, sparsity: number, altermoma: Record<string, unknown> = {}): Plugin {
  // The same scoring settings as `bench altermoma`, so the masks are the ones it fine-tunes.
  const extra =
    method === 'altermoma'
      ? { scoringBatches: 2, reactivationSteps: 4, ...altermoma }
      : method === 'synflow'
        ? { iterations: 20 }
        : method === 'snip'
          ? { scoringBatches: 2 }
          : {};
  return (PRUNING_CRITERIA[method] as (o: object) => Plugin)({ sparsity, structured: false, ...extra });
}

/** Scores with one criterion in a zero-step stage and returns its param masks (the caller disposes them). */
async function criterionMasks(graph: Graph, params: ParamStore, train: readonly Frame[], cfg: TaskConfig, method: CriterionName, o: PruneLayersBenchOptions) {
  const stage = {
    name: 'prune-layers',
    steps: 0,
    data: frameDataSource(train, cfg, o.batchSize, o.seed),
    taskLoss: pipelineTaskLoss(cfg),
  };
  const started = performance.now();
  const result = await new Pipeline({ seed: o.seed, graph, params, stages: [stage] }).use(pluginFor(method, o.sparsity, o.altermomaOptions)).run();
  result.params.dispose();
  result.masks.features.forEach((m) => m.dispose());
  return { masks: result.masks.params, seconds: (performance.now() - started) / 1000 };
}

/** Runs the analysis on a loaded model; the model's params are left unchanged. */
export async function analyzePruneLayers(
  graph: Graph,
  params: ParamStore,
  cfg: TaskConfig,
  o: PruneLayersBenchOptions,
): Promise<Omit<PruneLayersReport, 'machine' | 'seconds' | 'teacher'>> {
  if (!(o.sparsity > 0 && o.sparsity < 1)) throw new BevzipError(ERROR_CODES.CONFIG, `options.sparsity: expected a number in (0, 1), got ${o.sparsity}`);
  const referenceLevel = o.referenceLevel ?? o.sparsity;
  if (!(referenceLevel >= 0 && referenceLevel <= 1)) throw new BevzipError(ERROR_CODES.CONFIG, `options.referenceLevel: expected a number in [0, 1], got ${referenceLevel}`);
  if (o.methods.length === 0) throw new BevzipError(ERROR_CODES.CONFIG, 'options.methods: expected at least one criterion');
  const train = syntheticFrames(0, 0, o.trainScenes, 3);
  // Loss frames from the scenes after the scoring scenes: the loss is not measured on the batches
  // the gradient criteria scored on, which would favour them.
  const lossScenes = Math.ceil((o.lossBatches * o.batchSize) / 3);
  const lossFrames = syntheticFrames(0, o.trainScenes, lossScenes, 3).slice(0, o.lossBatches * o.batchSize);
  const term = o.lossTerm ?? 'total';
  const probe = await lossProbe(graph, params, lossFrames, cfg, { batchSize: o.batchSize, batches: o.lossBatches, seed: o.seed, term });
  try {
    const denseTerms = probe.terms();
    const denseLoss = pickTerm(denseTerms, term);
    o.log(`dense ${term} loss ${denseLoss.toFixed(4)} (${o.lossBatches} batches of ${o.batchSize})`);
    const cache = new Map<string, number>();
    let layers: LayerInfo[] | undefined;
    const criteria: CriterionLayers[] = [];
    let referenceSensitivity: number[] = [];
    for (const method of o.methods) {
      const { masks, seconds } = await criterionMasks(graph, params, train, cfg, method, o);
      try {
        if (!layers) {
          // The prunable layers are those the criteria mask; every criterion masks the same set.
          layers = graph.params.filter((p) => masks.has(p.name)).map((p) => ({ name: p.name, tags: p.tags, size: sizeOf(p.shape) }));
          referenceSensitivity = layers.map((l) => layerSensitivity(probe, params, l.name, denseLoss, { pruned: Math.round(referenceLevel * l.size) }, cache));
          o.log(`reference: ${layers.length} layers each pruned alone to ${(referenceLevel * 100).toFixed(1)}% by magnitude`);
        }
        const known = layers;
        if (masks.size !== known.length || known.some((l) => !masks.has(l.name)))
          throw new BevzipError(ERROR_CODES.CONFIG, `${method}: masks ${masks.size} params, not the ${known.length} the first criterion masked`);
        const pruned = prunedCounts(masks, known);
        const layerSparsity = pruned.map((k, i) => k / known[i].size);
        const sensitivity = known.map((l, i) =>
          layerSensitivity(probe, params, l.name, denseLoss, o.within === 'own' ? { own: masks.get(l.name)! } : { pruned: pruned[i] }, cache),
        );
        const terms = probe.terms(masks);
        const loss = pickTerm(terms, term);
        const total = known.reduce((n, l) => n + l.size, 0);
        const row: CriterionLayers = {
          method,
          loss,
          terms,
          sparsity: pruned.reduce((a, b) => a + b, 0) / total,
          layerSparsity,
          sensitivity,
          sensitivitySum: sensitivity.reduce((a, b) => a + b, 0),
          spearmanReference: spearman(layerSparsity, referenceSensitivity),
          spearmanOwnLevel: spearman(layerSparsity, sensitivity),
          scoringSeconds: seconds,
        };
        criteria.push(row);
        o.log(`${method}: pruned loss ${loss.toFixed(4)} (${signed(loss - denseLoss)}), Σ layer sensitivities ${row.sensitivitySum.toFixed(4)}, Spearman vs reference ${row.spearmanReference.toFixed(3)}`);
      } finally {
        masks.forEach((m) => m.dispose());
      }
    }
    const { log: _log, ...settings } = o;
    return {
      denseLoss,
      denseTerms,
      layers: layers!,
      referenceSensitivity,
      referenceLevel,
      criteria,
      settings: { ...settings, lossTerm: term, referenceLevel, lossFrames: lossFrames.length, scoringFrames: train.length },
      lossEvaluations: probe.evaluations,
    };
  } finally {
    probe.dispose();
  }
}

const roundTerms = (t: LossTerms): LossTerms => ({ heatmap: round(t.heatmap, 6), reg: round(t.reg, 6), map: round(t.map, 6), total: round(t.total, 6) });

/** A checkpoint, or `random:<config>`: a fusion model of that config with seed-0 weights. */
function loadTeacher(ref: string): { graph: Graph; params: ParamStore; cfg: TaskConfig } {
  if (ref.startsWith('random:')) {
    const name = ref.slice(7);
    const config = BEV_FUSION_CONFIGS[name as keyof typeof BEV_FUSION_CONFIGS];
    if (!config) throw new BevzipError(ERROR_CODES.CONFIG, `--teacher: unknown config '${name}' in '${ref}'; expected random:${Object.keys(BEV_FUSION_CONFIGS).join(', random:')} or a checkpoint`);
    const graph = buildBevFusion(config, 'fusion');
    return { graph, params: ParamStore.init(graph, 0), cfg: taskConfigForModel(config, 'fusion') };
  }
  const ck = loadModelCheckpoint(ref);
  return { graph: ck.graph, params: ck.params, cfg: taskConfigForModel(ck.info.config, ck.info.modality) };
}

/** `bevzip bench prune-layers`: loads the teacher, runs {@link analyzePruneLayers}, rounds for the report. */
export async function benchPruneLayers(o: PruneLayersBenchOptions): Promise<PruneLayersReport> {
  const began = performance.now();
  await initBackend({});
  const teacher = loadTeacher(o.teacher);
  try {
    const r = await analyzePruneLayers(teacher.graph, teacher.params, teacher.cfg, o);
    const r6 = (v: number) => round(v, 6);
    return {
      teacher: o.teacher,
      ...r,
      denseLoss: r6(r.denseLoss),
      denseTerms: roundTerms(r.denseTerms),
      referenceSensitivity: r.referenceSensitivity.map(r6),
      criteria: r.criteria.map((c) => ({
        ...c,
        loss: r6(c.loss),
        terms: roundTerms(c.terms),
        sparsity: r6(c.sparsity),
        layerSparsity: c.layerSparsity.map(r6),
        sensitivity: c.sensitivity.map(r6),
        sensitivitySum: r6(c.sensitivitySum),
        spearmanReference: round(c.spearmanReference, 4),
        spearmanOwnLevel: round(c.spearmanOwnLevel, 4),
        scoringSeconds: round(c.scoringSeconds, 2),
      })),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        node: process.version,
        backend: tf.getBackend(),
        loadAverage: os.loadavg().map((v) => round(v, 2)),
      },
      seconds: round((performance.now() - began) / 1000, 1),
    };
  } finally {
    teacher.params.dispose();
  }
}

const pct = (v: number) => (v * 100).toFixed(1);
const termName = (t: LossTerm) => (t === 'total' ? 'task loss' : t === 'detection' ? 'detection loss (heatmap + reg)' : 'map loss');
const termCells = (t: LossTerms) => `${t.heatmap.toFixed(4).padStart(8)} ${t.reg.toFixed(4).padStart(7)} ${t.map.toFixed(4).padStart(7)} ${t.total.toFixed(4).padStart(7)}`;
const signed = (v: number) => (v >= 0 ? '+' : '') + v.toFixed(3);

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
