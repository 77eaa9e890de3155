import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { BevzipError, ERROR_CODES } from '../errors';
import type { Graph, ParamDef, TagSelector } from '../graph';
import type { ParamStore } from '../params';
import { SlotOptimizer } from './optimizer-impl';

/** The update rules available. */
export type OptimizerKind = 'sgd' | 'adam' | 'adamw';

/**
 * Per-param overrides. A param takes the settings of the **first** group whose selector matches it;
 * params matching no group use the optimizer defaults.
 */
export interface ParamGroup {
  /** Tags/scope of the param (see `matchesSelector`), or a predicate on its name and definition. */
  selector?: TagSelector | ((paramName: string, def: ParamDef) => boolean);
  /** A **multiplier** of the scheduled learning rate (so schedules keep applying); default 1. */
  lr?: number;
  /** An **absolute** weight decay replacing the optimizer's for these params. */
  weightDecay?: number;
  /** Frozen params are never updated and keep no optimizer state. */
  frozen?: boolean;
}

/** Hyper-parameters with PyTorch's defaults and meaning. */
export interface OptimizerConfig {
  kind: OptimizerKind;
  /** Base learning rate; the runtime passes the scheduled value to {@link Optimizer.step}. */
  lr: number;
  /** SGD only; default 0 (plain SGD). */
  momentum?: number;
  /** SGD only, needs momentum > 0. */
  nesterov?: boolean;
  /** Adam/AdamW; default [0.9, 0.999]. */
  betas?: [number, number];
  /** Adam/AdamW; default 1e-8. */
  eps?: number;
  /** L2 added to the gradient for sgd/adam (default 0); decoupled decay for adamw (default 0.01). */
  weightDecay?: number;
  groups?: ParamGroup[];
}

/** Per-param optimizer state: PyTorch's slot names (`momentum_buffer`, `exp_avg`, `exp_avg_sq`). */
export interface ParamSlots {
  /** Updates this param has received (Adam's bias correction counts these, not global steps). */
  step: number;
  slots: Record<string, Float32Array>;
}

/** Everything needed to continue training bit-exactly; host data only, so it can be written to disk. */
export interface OptimizerState {
  kind: OptimizerKind;
  /** Calls to {@link Optimizer.step} so far. */
  step: number;
  /** Only params updated at least once appear here. */
  params: Record<string, ParamSlots>;
}

/** Updates a ParamStore in place from gradients; its state can be saved and restored exactly. */
export interface Optimizer {
  readonly config: Readonly<OptimizerConfig>;
  /**
   * Applies one update in place to the variables given their gradients; `lr` is the scheduled base lr.
   * Params without a gradient, non-trainable params and frozen groups are left alone.
   */
  step(grads: ReadonlyMap<string, tf.Tensor>, params: ParamStore, lr: number): void;
  /** A copy of the state (step count + moments as host Float32Arrays). */
  getState(): OptimizerState;
  /** Replaces the state; every array is checked against the graph's param sizes. */
  setState(state: OptimizerState): void;
  dispose(): void;
}

const nonNegative = z.number().finite().min(0);

/** Validates the serialisable part of a config (groups with predicates are checked by shape only). */
export const optimizerConfigSchema = z.object({
  kind: z.enum(['sgd', 'adam', 'adamw']),
  lr: nonNegative,
  momentum: z.number().min(0).max(1).optional(),
  nesterov: z.boolean().optional(),
  betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).optional(),
  eps: z.number().finite().gt(0).optional(),
  weightDecay: nonNegative.optional(),
  groups: z
    .array(
      z.object({
        selector: z.union([z.custom<(n: string, d: ParamDef) => boolean>((v) => typeof v === 'function'), z.record(z.string(), z.unknown())]).optional(),
        lr: nonNegative.optional(),
        weightDecay: nonNegative.optional(),
        frozen: z.boolean().optional(),
      }),
    )
    .optional(),
});

/**
 * Builds an optimizer for the params of `graph`, written on tfjs-core ops over the ParamStore's
 * variables so that its state can be checkpointed per param and restored exactly.
 *
 * @example
 * const opt = createOptimizer({ kind: 'adamw', lr: 1e-3, groups: [{ selector: { modality: 'camera' }, lr: 0.1 }] }, graph);
 * opt.step(grads, params, learningRate({ kind: 'cosine', totalSteps: 1000 }, 1e-3, step));
 */
export function createOptimizer(config: OptimizerConfig, graph: Graph): Optimizer {
  const parsed = optimizerConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BevzipError(ERROR_CODES.CONFIG, `optimizer config: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  if (config.nesterov && !(config.kind === 'sgd' && (config.momentum ?? 0) > 0)) {
    throw new BevzipError(ERROR_CODES.CONFIG, `optimizer config: nesterov needs kind 'sgd' with momentum > 0 (got kind '${config.kind}', momentum ${config.momentum ?? 0})`);
  }
  return new SlotOptimizer(config, graph);
}
