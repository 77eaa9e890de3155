import * as tf from '@tensorflow/tfjs';
import type { Graph } from '../graph';
import { run, type RunOptions } from '../interpreter';
import type { ParamStore } from '../params';
import { Rng } from '../rng';
import type { EventStream } from './events';
import type { HookContext, ScoreContext, StageContext, StageInfo, StepContext } from './hooks';
import type { HeldMasks } from './masks';
import type { StageConfig } from './pipeline-config';
import type { LoadedPlugin } from './plugin-driver';
import { trainableVariables } from './train-step';

/** The mutable state of a run that stages hand on to each other. */
export interface RunState {
  seed: number;
  stream: EventStream;
  graph: Graph;
  params: ParamStore;
  masks: HeldMasks;
  /** Weights the runtime calibrated for loss terms that ask for a gradient share, by `<stage>:<term>`. */
  termWeights: Map<string, number>;
}

/**
 * Every hook gets a random stream derived from (seed, plugin, position), never shared between
 * plugins, so adding a plugin does not change another's numbers and a resumed run draws the same.
 */
export function baseContext(state: RunState, p: LoadedPlugin, position: string, where?: { stage?: string; step?: number }): HookContext<unknown> {
  return {
    options: p.options,
    rng: Rng.derive(state.seed, `plugin:${p.name}:${position}`),
    seed: state.seed,
    warn: (message) => state.stream.emit({ type: 'warning', code: 'W_PLUGIN', message, plugin: p.name, ...where }),
  };
}

export function stageContext(state: RunState, p: LoadedPlugin, stage: StageInfo, position: string): StageContext<unknown> {
  return { ...baseContext(state, p, `stage:${stage.index}:${position}`, { stage: stage.name }), stage, graph: state.graph, params: state.params };
}

/** Step contexts are made once per (plugin, step), so every hook of a step shares one random stream. */
export function stepContexts(state: RunState, stage: StageInfo, scores: ReadonlyMap<string, tf.Tensor>): (p: LoadedPlugin, step: number) => StepContext<unknown> {
  let at = -1;
  const cache = new Map<string, StepContext<unknown>>();
  return (p, step) => {
    if (step !== at) {
      cache.clear();
      at = step;
    }
    let ctx = cache.get(p.name);
    if (!ctx) {
      const base = baseContext(state, p, `stage:${stage.index}:step:${step}`, { stage: stage.name, step });
      ctx = { ...base, stage, graph: state.graph, params: state.params, step, scores };
      cache.set(p.name, ctx);
    }
    return ctx;
  };
}

export function scoreContext(state: RunState, p: LoadedPlugin, stage: StageInfo, config: StageConfig): ScoreContext<unknown> {
  const withMasks = (options: RunOptions = {}): RunOptions => ({
    masks: state.masks.view.params,
    activationTransforms: state.masks.featureTransforms(),
    // Scoring happens before the stage's first step.
    progress: 0,
    ...options,
  });
  return {
    ...stageContext(state, p, stage, 'score'),
    masks: state.masks.view,
    batch: async (index) => config.data.batch(index, { seed: state.seed, stage: config.name }),
    forward: (feeds, options) => run(state.graph, state.params, feeds, withMasks(options)),
    gradients: (feeds, lossOf, options) => {
      const vars = trainableVariables(state.graph, state.params);
      const { value, grads } = tf.variableGrads(() => lossOf(run(state.graph, state.params, feeds, withMasks(options)), feeds), vars.list);
      const loss = value.dataSync()[0];
      value.dispose();
      return { loss, grads: new Map(Object.entries(grads).map(([v, g]) => [vars.paramOf.get(v) ?? v, g])) };
    },
    taskLoss: config.taskLoss,
    teacher: config.teacher && ('run' in config.teacher ? { graph: config.teacher.graph } : config.teacher),
  };
}
