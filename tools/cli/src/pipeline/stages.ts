import type { ScheduleConfig, StageConfig, DataSource } from '@bevzip/ir';
import type * as tf from '@tensorflow/tfjs';
import type { Batch, Graph, ParamStore } from '@bevzip/ir';
import type { PipelineFile, StageSpec } from './schema';

/** A stage's schedule: cosine annealing over the stage's own steps unless the stage says otherwise. */
export function stageSchedule(stage: StageSpec, fallback: PipelineFile['training']['schedule']): ScheduleConfig {
  const total = Math.max(1, stage.steps);
  const s = stage.schedule;
  if (s && s.kind === 'cosine' && !('totalSteps' in s && s.totalSteps !== undefined)) return { ...s, totalSteps: total };
  if (s) return s as ScheduleConfig;
  return fallback === 'cosine' ? { kind: 'cosine', totalSteps: total } : { kind: 'constant' };
}

/** What every stage shares: the data, the task loss and the frozen teacher. */
export interface StageInputs {
  data: DataSource;
  taskLoss: (outputs: Record<string, tf.Tensor>, batch: Batch) => tf.Scalar;
  teacher?: { graph: Graph; params: ParamStore };
  /** Active plugin names per stage. */
  stagePlugins: string[][];
}

/** The runtime stages of a pipeline file. */
export function runtimeStages(pipeline: PipelineFile, inputs: StageInputs): StageConfig[] {
  return pipeline.stages.map((stage, i) => ({
    name: stage.name,
    steps: stage.steps,
    data: inputs.data,
    taskLoss: inputs.taskLoss,
    optimizer: stage.optimizer ?? pipeline.training.optimizer,
    schedule: stageSchedule(stage, pipeline.training.schedule),
    clipNorm: stage.clipNorm ?? pipeline.training.clipNorm,
    termGradientEvery: pipeline.training.termGradientEvery,
    teacher: inputs.teacher,
    plugins: inputs.stagePlugins[i],
  }));
}

/** Replaces `${out}` in every string of plugin options, so plugins that write files write into the run's folder. */
export function expandOptions(value: unknown, vars: Record<string, string>): unknown {
  if (typeof value === 'string') return value.replace(/\$\{(\w+)\}/g, (m, k: string) => vars[k] ?? m);
  if (Array.isArray(value)) return value.map((v) => expandOptions(v, vars));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandOptions(v, vars)]));
  return value;
}
