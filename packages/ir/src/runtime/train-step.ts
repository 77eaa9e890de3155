import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES } from '../errors';
import type { Graph } from '../graph';
import { run, type RunResult, type TensorTransform } from '../interpreter';
import type { ParamStore } from '../params';
import type { Optimizer } from '../train';
import type { Batch } from './data-source';
import type { LossContext, LossTerm, StepContext } from './hooks';
import type { HeldMasks } from './masks';
import type { ActiveSet, LoadedPlugin, PluginDriver } from './plugin-driver';
import type { TrainingServices } from './services';

export interface StepSetup {
  graph: Graph;
  params: ParamStore;
  driver: PluginDriver;
  active: ActiveSet;
  masks: HeldMasks;
  optimizer: Optimizer;
  services: TrainingServices;
  taskLoss: (outputs: Record<string, tf.Tensor>, batch: Batch) => tf.Scalar;
  clipNorm?: number;
  /** The stage's training progress at this step (`stageProgress`), for scheduled ops in the forward. */
  progress?: number;
  /**
   * Also measure the gradient norm of each weighted loss term alone (one more forward and backward
   * per term, before the update), for {@link StepEvent.termGradNorms}.
   */
  measureTerms?: boolean;
  /** The stage's name, and the calibrated weights of gradient-share terms (read and filled in). */
  stage?: string;
  termWeights?: Map<string, number>;
  /** Student values tapped for the loss hooks (union over plugins). */
  studentTaps: readonly string[];
  required: ReadonlyMap<string, { student: readonly string[]; teacher: readonly string[] }>;
  stepContext(plugin: LoadedPlugin): StepContext<unknown>;
}

export type StepOutcome =
  | { ok: true; losses: Record<string, number>; total: number; gradNorm: number; termGradNorms?: Record<string, number>; calibrated?: Record<string, number> }
  | { ok: false; culprit: string; losses: Record<string, number>; calibrated?: Record<string, number> };

interface Term {
  name: string;
  value: tf.Scalar;
  weight: number;
  /** A gradient-share term whose weight is not calibrated yet (its weight is 1 until it is). */
  uncalibrated?: number;
}

/** The trainable student variables, and the param name behind each variable name. */
export function trainableVariables(graph: Graph, params: ParamStore): { list: tf.Variable[]; paramOf: Map<string, string> } {
  const list = graph.params.filter((p) => p.trainable && params.get(p.name).trainable).map((p) => params.get(p.name));
  const paramOf = new Map(graph.params.filter((p) => p.trainable).map((p) => [params.get(p.name).name, p.name]));
  return { list, paramOf };
}

/** The `mask` reduce: each plugin sees the held masks and its update is multiplied in before the next runs. */
export function runMaskHooks(driver: PluginDriver, masks: HeldMasks, graph: Graph, ctx: (p: LoadedPlugin) => StepContext<unknown>, active: ActiveSet): void {
  tf.tidy(() => {
    driver.hookReduce('mask', masks.view, (p, held) => [held, ctx(p)], (held, update, p) => {
      if (update) masks.multiply(update, graph, `plugin '${p.name}' (hook 'mask')`);
      return masks.view;
    }, active);
  });
}

function quantizers(s: StepSetup): { weights: Map<string, TensorTransform>; activations: Map<string, TensorTransform> } {
  const weights = new Map<string, TensorTransform>();
  const activations = s.masks.featureTransforms();
  for (const [key, { value }] of s.driver.hookFirst('quantize', (p) => [s.stepContext(p)], s.active)) {
    const q = value as TensorTransform;
    if (key.startsWith('weight:')) weights.set(key.slice(7), q);
    else {
      const name = key.slice(11);
      const masked = activations.get(name);
      activations.set(name, masked ? (x) => q(masked(x)) : q);
    }
  }
  return { weights, activations };
}

/**
 * Sets the weights of gradient-share terms that have none yet in this stage (usually at its first
 * step): each one's gradient norm and the task's are measured at the current weights.
 */
function calibrateTermWeights(s: StepSetup, batch: Batch, teacherTaps: Record<string, tf.Tensor> | undefined, transforms: Parameters<typeof forwardTerms>[3], vars: tf.Variable[], terms: { name: string; uncalibrated?: number }[]): Record<string, number> {
  const norms = termGradientNorms(s, batch, teacherTaps, transforms, vars, terms.map((t) => t.name));
  const out: Record<string, number> = {};
  for (const t of terms) {
    if (t.uncalibrated === undefined) continue;
    // A term with no gradient cannot take any share; its weight stays 1 (it changes nothing).
    const weight = norms[t.name] > 0 ? (t.uncalibrated * norms.task) / norms[t.name] : 1;
    s.termWeights!.set(`${s.stage}:${t.name}`, weight);
    out[t.name] = weight;
  }
  return out;
}

/**
 * One training step on a batch: mask → quantize → forward (+ teacher taps given) → loss → backward
 * → clip → optimizer → masks re-applied → running statistics written back. A non-finite loss term
 * (or gradient norm) leaves weights, optimizer and state untouched and names the culprit.
 */
/** The student forward and every loss term (task first, then each plugin's in plugin order). */
function forwardTerms(
  s: StepSetup,
  batch: Batch,
  teacherTaps: Record<string, tf.Tensor> | undefined,
  transforms: { weights: Map<string, TensorTransform>; activations: Map<string, TensorTransform> },
): { res: RunResult; terms: Term[] } {
  const res: RunResult = run(s.graph, s.params, batch.feeds, {
    training: true,
    taps: s.studentTaps,
    masks: s.masks.view.params,
    weightTransforms: transforms.weights,
    activationTransforms: transforms.activations,
    progress: s.progress,
  });
  const terms: Term[] = [{ name: 'task', value: s.taskLoss(res.outputs, batch), weight: 1 }];
  s.driver.hookReduce('loss', terms, (p) => [lossContext(s, p, res, batch, teacherTaps)], (acc, r, p) => {
    for (const [term, t] of Object.entries(r ?? {}) as [string, LossTerm][]) {
      const v = t instanceof tf.Tensor ? t : t.value;
      if (!(v instanceof tf.Tensor) || v.size !== 1) {
        throw new BevzipError(ERROR_CODES.PLUGIN_HOOK, `plugin '${p.name}' failed in hook 'loss': term '${term}' must be a scalar tensor`);
      }
      const name = `${p.name}/${term}`;
      const share = t instanceof tf.Tensor ? undefined : t.gradientShare;
      if (share !== undefined && !(share > 0 && Number.isFinite(share))) {
        throw new BevzipError(ERROR_CODES.PLUGIN_HOOK, `plugin '${p.name}' failed in hook 'loss': term '${term}': gradientShare must be a positive number, got ${share}`);
      }
      if (share === undefined) acc.push({ name, value: v.reshape([]) as tf.Scalar, weight: t instanceof tf.Tensor ? 1 : (t.weight ?? 1) });
      else {
        const calibrated = s.termWeights?.get(`${s.stage}:${name}`);
        acc.push({ name, value: v.reshape([]) as tf.Scalar, weight: calibrated ?? 1, ...(calibrated === undefined ? { uncalibrated: share } : {}) });
      }
    }
    return acc;
  }, s.active);
  return { res, terms };
}

/**
 * The L2 norm of the gradient of each weighted term alone, at the current weights: what share of
 * the update each term drives. Costs one forward and backward per term.
 */
function termGradientNorms(s: StepSetup, batch: Batch, teacherTaps: Record<string, tf.Tensor> | undefined, transforms: Parameters<typeof forwardTerms>[3], vars: tf.Variable[], names: readonly string[]): Record<string, number> {
  const norms: Record<string, number> = {};
  names.forEach((name, i) => {
    const { value, grads } = tf.variableGrads(() => {
      const t = forwardTerms(s, batch, teacherTaps, transforms).terms[i];
      return tf.mul(t.value, t.weight) as tf.Scalar;
    }, vars);
    // A term that does not reach any weight (a constant) has no gradients at all.
    const list = Object.values(grads).filter((g): g is tf.Tensor => g != null);
    norms[name] = list.length ? Math.sqrt(tf.tidy(() => tf.addN(list.map((g) => tf.sum(tf.square(g)))).dataSync()[0])) : 0;
    value.dispose();
    tf.dispose(list);
  });
  return norms;
}

/**
 * One training step on a batch: mask → quantize → forward (+ teacher taps given) → loss → backward
 * → clip → optimizer → masks re-applied → running statistics written back. A non-finite loss term
 * (or gradient norm) leaves weights, optimizer and state untouched and names the culprit.
 */
export function trainStep(s: StepSetup, batch: Batch, teacherTaps: Record<string, tf.Tensor> | undefined, lr: number): StepOutcome {
  runMaskHooks(s.driver, s.masks, s.graph, s.stepContext, s.active);
  const transforms = quantizers(s);
  const vars = trainableVariables(s.graph, s.params);
  let calibrated: Record<string, number> | undefined;
  const differentiate = () => {
    const names: string[] = [];
    const seen: { name: string; uncalibrated?: number }[] = [];
    let termValues: tf.Tensor | undefined;
    let state: Record<string, tf.Tensor> = {};
    const { value, grads } = tf.variableGrads(() => {
      const { res, terms } = forwardTerms(s, batch, teacherTaps, transforms);
      names.push(...terms.map((t) => t.name));
      seen.push(...terms.map((t) => ({ name: t.name, uncalibrated: t.uncalibrated })));
      termValues = tf.keep(tf.stack(terms.map((t) => t.value)));
      state = Object.fromEntries(Object.entries(res.state).map(([k, v]) => [k, tf.keep(v)]));
      return tf.addN(terms.map((t) => tf.mul(t.value, t.weight))) as tf.Scalar;
    }, vars.list);
    return { names, seen, termValues: termValues!, state, value, grads };
  };
  let pass = differentiate();
  if (pass.seen.some((t) => t.uncalibrated !== undefined) && s.termWeights) {
    // This step's gradients used placeholder weights: set them, then differentiate again.
    tf.dispose([pass.termValues, pass.value, ...Object.values(pass.grads), ...Object.values(pass.state)]);
    calibrated = calibrateTermWeights(s, batch, teacherTaps, transforms, vars.list, pass.seen);
    pass = differentiate();
  }
  const { names, termValues, value, grads } = pass;
  const state = pass.state;
  const values = termValues.dataSync();
  termValues.dispose();
  const losses = Object.fromEntries(names.map((n, i) => [n, values[i]]));
  const total = value.dataSync()[0];
  value.dispose();
  const gradMap = new Map(Object.entries(grads).map(([v, g]) => [vars.paramOf.get(v) ?? v, g]));
  const discard = () => {
    for (const g of gradMap.values()) g.dispose();
    for (const t of Object.values(state)) t.dispose();
  };
  const bad = names.find((_, i) => !Number.isFinite(values[i])) ?? (Number.isFinite(total) ? undefined : 'total');
  if (bad) {
    discard();
    return { ok: false, culprit: bad, losses, calibrated };
  }
  let gradNorm: number;
  let update = gradMap;
  if (s.clipNorm !== undefined) {
    const clipped = s.services.clipGradNorm(gradMap, s.clipNorm);
    for (const g of gradMap.values()) g.dispose();
    update = clipped.grads;
    gradNorm = clipped.norm;
  } else {
    gradNorm = Math.sqrt(tf.tidy(() => tf.addN([...gradMap.values()].map((g) => tf.sum(tf.square(g)))).dataSync()[0]));
  }
  if (!Number.isFinite(gradNorm)) {
    for (const g of update.values()) g.dispose();
    for (const t of Object.values(state)) t.dispose();
    return { ok: false, culprit: 'gradient norm', losses, calibrated };
  }
  // Measured at the weights the step's gradients were taken at, before the update moves them.
  const termGradNorms = s.measureTerms ? termGradientNorms(s, batch, teacherTaps, transforms, vars.list, names) : undefined;
  s.optimizer.step(update, s.params, lr);
  for (const g of update.values()) g.dispose();
  s.masks.applyToWeights(s.params);
  for (const [name, t] of Object.entries(state)) {
    s.params.get(name).assign(t);
    t.dispose();
  }
  return { ok: true, losses, total, gradNorm, ...(termGradNorms ? { termGradNorms } : {}), ...(calibrated ? { calibrated } : {}) };
}

function lossContext(s: StepSetup, p: LoadedPlugin, res: RunResult, batch: Batch, teacher: Record<string, tf.Tensor> | undefined): LossContext<unknown> {
  const required = s.required.get(p.name) ?? { student: [], teacher: [] };
  return {
    ...s.stepContext(p),
    batch,
    student: { outputs: res.outputs, taps: res.taps },
    teacher: teacher ? { taps: teacher } : undefined,
    required,
  };
}
