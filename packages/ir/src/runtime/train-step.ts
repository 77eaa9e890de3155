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
  /** Student values tapped for the loss hooks (union over plugins). */
  studentTaps: readonly string[];
  required: ReadonlyMap<string, { student: readonly string[]; teacher: readonly string[] }>;
  stepContext(plugin: LoadedPlugin): StepContext<unknown>;
}

export type StepOutcome =
  | { ok: true; losses: Record<string, number>; total: number; gradNorm: number }
  | { ok: false; culprit: string; losses: Record<string, number> };

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
 * One training step on a batch: mask → quantize → forward (+ teacher taps given) → loss → backward
 * → clip → optimizer → masks re-applied → running statistics written back. A non-finite loss term
 * (or gradient norm) leaves weights, optimizer and state untouched and names the culprit.
 */
export function trainStep(s: StepSetup, batch: Batch, teacherTaps: Record<string, tf.Tensor> | undefined, lr: number): StepOutcome {
  runMaskHooks(s.driver, s.masks, s.graph, s.stepContext, s.active);
  const { weights, activations } = quantizers(s);
  const vars = trainableVariables(s.graph, s.params);
  const names: string[] = [];
  let termValues: tf.Tensor | undefined;
  let state: Record<string, tf.Tensor> = {};
  const { value, grads } = tf.variableGrads(() => {
    const res: RunResult = run(s.graph, s.params, batch.feeds, {
      training: true,
      taps: s.studentTaps,
      masks: s.masks.view.params,
      weightTransforms: weights,
      activationTransforms: activations,
    });
    const terms: { name: string; value: tf.Scalar; weight: number }[] = [{ name: 'task', value: s.taskLoss(res.outputs, batch), weight: 1 }];
    s.driver.hookReduce('loss', terms, (p) => [lossContext(s, p, res, batch, teacherTaps)], (acc, r, p) => {
      for (const [term, t] of Object.entries(r ?? {}) as [string, LossTerm][]) {
        const v = t instanceof tf.Tensor ? t : t.value;
        const weight = t instanceof tf.Tensor ? 1 : (t.weight ?? 1);
        if (!(v instanceof tf.Tensor) || v.size !== 1) {
          throw new BevzipError(ERROR_CODES.PLUGIN_HOOK, `plugin '${p.name}' failed in hook 'loss': term '${term}' must be a scalar tensor`);
        }
        acc.push({ name: `${p.name}/${term}`, value: v.reshape([]) as tf.Scalar, weight });
      }
      return acc;
    }, s.active);
    names.push(...terms.map((t) => t.name));
    termValues = tf.keep(tf.stack(terms.map((t) => t.value)));
    state = Object.fromEntries(Object.entries(res.state).map(([k, v]) => [k, tf.keep(v)]));
    return tf.addN(terms.map((t) => tf.mul(t.value, t.weight))) as tf.Scalar;
  }, vars.list);
  const values = termValues!.dataSync();
  termValues!.dispose();
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
    return { ok: false, culprit: bad, losses };
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
    return { ok: false, culprit: 'gradient norm', losses };
  }
  s.optimizer.step(update, s.params, lr);
  for (const g of update.values()) g.dispose();
  s.masks.applyToWeights(s.params);
  for (const [name, t] of Object.entries(state)) {
    s.params.get(name).assign(t);
    t.dispose();
  }
  return { ok: true, losses, total, gradNorm };
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
