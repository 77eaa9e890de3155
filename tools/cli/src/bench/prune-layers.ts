import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES, initBackend, Pipeline, ParamStore, run, sizeOf, type Batch, type Graph, type Tags } from '@bevzip/ir';
import type { Frame } from '@bevzip/driving-data';
import {
  frameDataSource,
  syntheticFrames,
  targetTensors,
  taskConfigForModel,
  taskLoss,
  type HostTargets,
  type TaskConfig,
} from '@bevzip/bev-fusion';
import { globalTopK, type CriterionName } from '@bevzip/plugin-altermoma';
import { pipelineTaskLoss } from '../pipeline/data';
import { pluginFor } from './altermoma';
import { machineWithLoad } from './common';
import { loadModelRefFor } from './kd-common';
import { signed } from './prune-layers-table';
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

/** Scores with one criterion in a zero-step stage and returns its param masks (the caller disposes them). */
async function criterionMasks(graph: Graph, params: ParamStore, train: readonly Frame[], cfg: TaskConfig, method: CriterionName, o: PruneLayersBenchOptions) {
  const stage = {
    name: 'prune-layers',
    steps: 0,
    data: frameDataSource(train, cfg, o.batchSize, o.seed),
    taskLoss: pipelineTaskLoss(cfg),
  };
  const started = performance.now();
  const result = await new Pipeline({ seed: o.seed, graph, params, stages: [stage] }).use(pluginFor(method, o.sparsity, false, { altermomaOptions: o.altermomaOptions })).run();
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

/** `bevzip bench prune-layers`: loads the teacher, runs {@link analyzePruneLayers}, rounds for the report. */
export async function benchPruneLayers(o: PruneLayersBenchOptions): Promise<PruneLayersReport> {
  const began = performance.now();
  await initBackend({});
  const teacher = loadModelRefFor(o.teacher, 'fusion');
  try {
    const meta = teacher.graph.meta as { config: Parameters<typeof taskConfigForModel>[0]; modality: 'camera' | 'lidar' | 'fusion' };
    const r = await analyzePruneLayers(teacher.graph, teacher.params, taskConfigForModel(meta.config, meta.modality), o);
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
      machine: machineWithLoad(),
      seconds: round((performance.now() - began) / 1000, 1),
    };
  } finally {
    teacher.params.dispose();
  }
}

export { formatPruneLayersTable } from './prune-layers-table';
