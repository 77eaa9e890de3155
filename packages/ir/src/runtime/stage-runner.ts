import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES } from '../errors';
import type { Graph } from '../graph';
import { nodesNeeded, selectValues } from '../interpreter';
import { initialValues } from '../params';
import type { Optimizer, OptimizerConfig, OptimizerState } from '../train';
import { validateGraph } from '../validate';
import { fileCheckpointStore } from './checkpoint-store';
import { scoreContext, stageContext, stepContexts, type RunState } from './hook-contexts';
import type { PluginStateSnapshot, StageInfo } from './hooks';
import type { PipelineConfig, StageConfig } from './pipeline-config';
import type { TapRequest } from './plugin';
import { hookError, type ActiveSet, type LoadedPlugin, type PluginDriver } from './plugin-driver';
import type { TrainingServices } from './services';
import { ortTeacher } from './ort-teacher';
import type { TeacherRunner } from './teacher';
import { runMaskHooks, trainStep } from './train-step';

const DEFAULT_OPTIMIZER: OptimizerConfig = { kind: 'adam', lr: 1e-3 };

function resolveTaps(graph: Graph, requests: readonly TapRequest[], plugin: string, who: string): string[] {
  return requests.flatMap((r) => {
    if (typeof r === 'string') {
      const known = r in graph.values || graph.inputs.some((i) => i.name === r);
      if (!known) throw new BevzipError(ERROR_CODES.PLUGIN_REQUIREMENT, `plugin '${plugin}' requires ${who} tap '${r}', which graph '${graph.name}' does not define`);
      return [r];
    }
    const names = selectValues(graph, r);
    if (names.length === 0) throw new BevzipError(ERROR_CODES.PLUGIN_REQUIREMENT, `plugin '${plugin}' requires ${who} taps ${JSON.stringify(r)}, which match no node of graph '${graph.name}'`);
    return names;
  });
}

/**
 * Checks, on the stage's first batch and before any step, that the teacher can run on what the
 * data gives: every input its taps need is fed, with the shape it declares (-1 matches any size).
 */
function checkTeacherFits(teacher: TeacherRunner, taps: readonly string[], feeds: Readonly<Record<string, tf.Tensor>>, stage: string): void {
  const graph = teacher.graph;
  const used = new Set(nodesNeeded(graph, taps).flatMap((n) => n.inputs));
  for (const t of taps) used.add(t);
  const problems: string[] = [];
  for (const input of graph.inputs) {
    if (!used.has(input.name)) continue;
    const fed = feeds[input.name];
    if (!fed) {
      problems.push(`input '${input.name}' [${input.shape}] is not in the batch (it holds ${Object.keys(feeds).join(', ') || 'nothing'})`);
    } else if (fed.rank !== input.shape.length || input.shape.some((d, i) => d !== -1 && d !== fed.shape[i])) {
      problems.push(`input '${input.name}' expects [${input.shape}] but the batch gives [${fed.shape}]`);
    }
  }
  if (problems.length > 0) {
    throw new BevzipError(
      ERROR_CODES.PLUGIN_REQUIREMENT,
      `stage '${stage}': the teacher '${graph.name}' does not fit the data the student is trained on: ${problems.join('; ')}. Use a teacher built for the same sensors, image size and BEV grid, or data that feeds it`,
    );
  }
}

/** Resolves each active plugin's tap requests and checks that a teacher is present where one is needed. */
function requirements(plugins: readonly LoadedPlugin[], graph: Graph, teacher: TeacherRunner | undefined, stage: string) {
  const required = new Map<string, { student: string[]; teacher: string[] }>();
  for (const p of plugins) {
    const t = p.requires.teacher;
    if (t && !teacher) throw new BevzipError(ERROR_CODES.PLUGIN_REQUIREMENT, `plugin '${p.name}' requires a teacher, but stage '${stage}' has none`);
    const teacherTaps = teacher && typeof t === 'object' ? resolveTaps(teacher.graph, t.taps, p.name, 'teacher') : [];
    required.set(p.name, { student: resolveTaps(graph, p.requires.taps ?? [], p.name, 'student'), teacher: teacherTaps });
  }
  const union = (k: 'student' | 'teacher') => [...new Set([...required.values()].flatMap((r) => r[k]))];
  return { required, studentTaps: union('student'), teacherTaps: union('teacher') };
}

/** Makes a transformed graph the student's: validates it, initialises new params, drops stale ones. */
function adoptGraph(state: RunState, graph: Graph, stage: string): void {
  validateGraph(graph);
  for (const p of graph.params) {
    if (!state.params.has(p.name)) {
      const init = tf.tensor(initialValues(p, state.seed), p.shape, p.dtype);
      state.params.set(p.name, init, p.trainable);
      init.dispose();
    } else if (state.params.get(p.name).shape.join(',') !== p.shape.join(',')) {
      throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `stage '${stage}': transform changed param '${p.name}' to [${p.shape}] without setting its value (still [${state.params.get(p.name).shape}])`);
    }
  }
  state.params.retain(graph);
  for (const name of state.masks.retain(graph)) {
    state.stream.emit({ type: 'warning', code: 'W_MASK_DROPPED', message: `mask '${name}' no longer fits graph '${graph.name}' and was dropped`, stage });
  }
  state.graph = graph;
}

export interface StageRun {
  config: PipelineConfig;
  driver: PluginDriver;
  services: TrainingServices;
  state: RunState;
  index: number;
  /** Completed steps of this stage (> 0 when resuming mid-stage: transform and score are skipped). */
  startStep: number;
  optimizerState?: OptimizerState;
}

/**
 * The training progress p ∈ [0, 1) at a step of a stage: the fraction of its steps done before this
 * one (0 at the first step). A function of the position alone, so a resumed run gets the same p.
 */
export function stageProgress(step: number, steps: number): number {
  return steps > 0 ? step / steps : 0;
}

/** Runs one stage: transform, score, then the training steps with checkpoints. */
export async function runStage({ config, driver, services, state, index, startStep, optimizerState }: StageRun): Promise<void> {
  const stage: StageConfig = config.stages[index];
  const info: StageInfo = { name: stage.name, index, steps: stage.steps };
  for (const name of stage.plugins ?? []) {
    if (!driver.plugins.some((p) => p.name === name)) throw new BevzipError(ERROR_CODES.CONFIG, `stage '${stage.name}' activates plugin '${name}', which is not registered`);
  }
  const active: ActiveSet = stage.plugins ? new Set(stage.plugins) : undefined;
  const plugins = driver.plugins.filter((p) => !active || active.has(p.name));
  if (startStep === 0) {
    let graph = state.graph;
    const teacherGraph = stage.teacher?.graph;
    await driver.hookSequential('transform', (p) => [graph, { ...stageContext(state, p, info, 'transform'), graph, teacherGraph }], (r) => void (r && (graph = r)), active);
    if (graph !== state.graph) adoptGraph(state, graph, stage.name);
  }
  const onFallback = (message: string) => state.stream.emit({ type: 'warning', code: ERROR_CODES.ONNX_EXPORT, message, stage: stage.name, step: startStep });
  const teacher = stage.teacher && ('run' in stage.teacher ? stage.teacher : ortTeacher(stage.teacher.graph, stage.teacher.params, { onFallback }));
  const req = requirements(plugins, state.graph, teacher, stage.name);
  const scores = new Map<string, tf.Tensor>();
  const optimizer = services.createOptimizer(stage.optimizer ?? DEFAULT_OPTIMIZER, state.graph);
  try {
    if (optimizerState) optimizer.setState(optimizerState);
    if (startStep === 0) {
      const results = await driver.hookParallel('score', (p) => [scoreContext(state, p, info, stage)], active);
      for (const { plugin, result } of results) {
        for (const [name, t] of Object.entries(result ?? {})) {
          if (scores.has(name)) throw new BevzipError(ERROR_CODES.PLUGIN_DUPLICATE, `stage '${stage.name}': plugin '${plugin}' returns score '${name}', which another plugin already returned`);
          scores.set(name, t);
        }
      }
    }
    state.stream.emit({ type: 'stage-start', stage: stage.name, index, steps: stage.steps, startStep });
    const stepContext = stepContexts(state, info, scores);
    if (stage.steps === 0) {
      // A score-only stage still turns its scores into masks for the stages after it.
      runMaskHooks(driver, state.masks, state.graph, (p) => stepContext(p, 0), active);
    }
    const maxBad = config.maxNonFiniteSteps ?? 5;
    let bad = 0;
    let checkpointedAt = startStep;
    for (let step = startStep; step < stage.steps; step++) {
      // A step that awaits only settled promises never lets the event loop run, so a signal
      // handler (SIGINT → stop.abort()) would wait for the whole run; give it a turn each step.
      if (config.stop) await new Promise<void>((resolve) => setImmediate(resolve));
      if (config.stop?.aborted) {
        // A checkpoint already marks this position unless the run is at its very start.
        const marked = checkpointedAt === step && (step > 0 || index > 0);
        if (config.checkpoint && !marked) await writeCheckpoint(config, driver, state, optimizer, { stage: index, step }, stage.name);
        throw new BevzipError(ERROR_CODES.INTERRUPTED, `stopped on request at stage '${stage.name}' step ${step} of ${stage.steps}${config.checkpoint ? `, with a checkpoint at that step in ${config.checkpoint.dir}` : ' (no checkpoints configured: nothing to resume from)'}`);
      }
      const batch = await stage.data.batch(step, { seed: state.seed, stage: stage.name });
      if (teacher && step === startStep && req.teacherTaps.length > 0) {
        try {
          checkTeacherFits(teacher, req.teacherTaps, batch.feeds, stage.name);
        } catch (e) {
          for (const t of Object.values(batch.feeds)) t.dispose();
          throw e;
        }
      }
      const started = performance.now();
      let teacherTaps: Record<string, tf.Tensor> | undefined;
      try {
        teacherTaps = teacher && (await teacher.run(batch.feeds, req.teacherTaps));
        const lr = services.learningRate(stage.schedule ?? { kind: 'constant' }, (stage.optimizer ?? DEFAULT_OPTIMIZER).lr, step);
        const setup = { graph: state.graph, params: state.params, driver, active, masks: state.masks, optimizer, services, taskLoss: stage.taskLoss, clipNorm: stage.clipNorm, ...req };
        const every = stage.termGradientEvery ?? 0;
        const measureTerms = every > 0 && (step === startStep || step % every === 0);
        const outcome = trainStep({ ...setup, measureTerms, progress: stageProgress(step, stage.steps), stage: stage.name, termWeights: state.termWeights, stepContext: (p) => stepContext(p, step) }, batch, teacherTaps, lr);
        for (const [term, value] of Object.entries(outcome.calibrated ?? {})) state.stream.emit({ type: 'metric', stage: stage.name, step, name: `weight/${term}`, value });
        if (!outcome.ok) {
          bad++;
          const message = `stage '${stage.name}' step ${step}: non-finite ${outcome.culprit === 'gradient norm' ? '' : 'loss term '}'${outcome.culprit}'; step skipped (${bad} in a row)`;
          state.stream.emit({ type: 'warning', code: ERROR_CODES.NON_FINITE_LOSS, message, stage: stage.name, step });
          if (bad >= maxBad) throw new BevzipError(ERROR_CODES.NON_FINITE_LOSS, `${message}; stopping after ${maxBad} consecutive non-finite steps`);
          continue;
        }
        bad = 0;
        const seconds = (performance.now() - started) / 1000;
        const samples = batch.size ?? Object.values(batch.feeds)[0]?.shape[0] ?? 1;
        const { losses, total, gradNorm, termGradNorms } = outcome;
        state.stream.emit({ type: 'step', stage: stage.name, step, losses, total, lr, samplesPerSec: samples / Math.max(seconds, 1e-9), gradNorm, ...(termGradNorms ? { termGradNorms } : {}) });
      } finally {
        for (const t of Object.values(batch.feeds)) t.dispose();
        for (const t of Object.values(teacherTaps ?? {})) t.dispose();
      }
      const ck = config.checkpoint;
      if (ck && (step + 1) % ck.every === 0 && step + 1 < stage.steps) {
        await writeCheckpoint(config, driver, state, optimizer, { stage: index, step: step + 1 }, stage.name);
        checkpointedAt = step + 1;
      }
    }
    state.stream.emit({ type: 'stage-end', stage: stage.name, index, steps: stage.steps });
    if (config.checkpoint) await writeCheckpoint(config, driver, state, undefined, { stage: index + 1, step: 0 }, stage.name);
  } finally {
    optimizer.dispose();
    for (const t of scores.values()) t.dispose();
  }
}

/** Each stateful plugin's saved JSON (by plugin name) and tensors (as `<plugin>/<name>`). */
function pluginStates(driver: PluginDriver): { json: Record<string, unknown>; tensors: Map<string, tf.Tensor> } {
  const json: Record<string, unknown> = {};
  const tensors = new Map<string, tf.Tensor>();
  for (const p of driver.plugins) {
    if (!p.hooks.state) continue;
    let snapshot: PluginStateSnapshot;
    try {
      snapshot = p.hooks.state.save();
    } catch (e) {
      throw hookError(p.name, 'state.save', e);
    }
    json[p.name] = snapshot.json ?? null;
    for (const [name, t] of snapshot.tensors ?? []) tensors.set(`${p.name}/${name}`, t);
  }
  return { json, tensors };
}

/** Global steps at which stages end: their checkpoints are never removed by retention. */
function stageEndSteps(config: PipelineConfig): Set<number> {
  let at = 0;
  return new Set(config.stages.map((s) => (at += s.steps)));
}

async function writeCheckpoint(config: PipelineConfig, driver: PluginDriver, state: RunState, optimizer: Optimizer | undefined, position: { stage: number; step: number }, stageName: string) {
  const ck = config.checkpoint!;
  const globalStep = config.stages.slice(0, position.stage).reduce((n, s) => n + s.steps, 0) + position.step;
  const plugins = pluginStates(driver);
  const extra = { stage: stageName, fingerprint: ck.fingerprint, plugins: plugins.json, termWeights: Object.fromEntries(state.termWeights) };
  const data = { graph: state.graph, params: state.params, optimizer: optimizer?.getState(), seed: state.seed, masks: state.masks.view, position, extra, extraTensors: plugins.tensors };
  const store = ck.store ?? fileCheckpointStore;
  const dir = await store.write(ck.dir, globalStep, data);
  state.stream.emit({ type: 'checkpoint', stage: stageName, step: position.step, dir });
  if (store.list && store.remove) {
    const ends = stageEndSteps(config);
    const mid = (await store.list(ck.dir)).filter((c) => !ends.has(c.globalStep)).sort((a, b) => b.globalStep - a.globalStep);
    for (const old of mid.slice(ck.keepLast ?? 3)) await store.remove(old.dir);
  }
}
