import type * as tf from '@tensorflow/tfjs';
import type { Observable } from 'rxjs';
import type { Graph } from '../graph';
import type { RunOptions, RunResult, TensorTransform } from '../interpreter';
import type { OnnxExportOptions } from '../onnx/export';
import type { ParamStore } from '../params';
import type { Rng } from '../rng';
import type { Batch } from './data-source';
import type { TrainEvent } from './events';

/**
 * The hook contract: every hook a plugin may implement, its signature and its execution kind.
 *
 * | hook        | kind       | runs                                   | a plugin returns                              |
 * |-------------|------------|----------------------------------------|-----------------------------------------------|
 * | `setup`     | sequential | once, at run start                     | nothing                                       |
 * | `transform` | sequential | once per stage, output feeds the next  | a new graph, or nothing to keep it            |
 * | `score`     | parallel   | before a stage's first step            | importance tensors, merged by name            |
 * | `mask`      | reduce     | every step, before the forward         | param / feature masks, multiplied into held   |
 * | `quantize`  | first      | every step, before the forward         | weight / activation transforms, first wins    |
 * | `loss`      | reduce     | every step, inside the gradient tape   | named scalar terms, weighted and summed       |
 * | `observe`   | parallel   | once, at run start                     | a teardown, run in reverse at run end         |
 * | `export`    | sequential | once, after the last stage, in order   | graph passes, ONNX rewrites, a report         |
 * | `finalize`  | sequential | once, at run end, in reverse order     | nothing                                       |
 */
export type HookName = 'setup' | 'transform' | 'score' | 'mask' | 'quantize' | 'loss' | 'observe' | 'export' | 'finalize';

/** Every hook name once; a compile error here means a new hook was not given a kind. */
export const HOOK_NAMES: Record<HookName, 1> = { setup: 1, transform: 1, score: 1, mask: 1, quantize: 1, loss: 1, observe: 1, export: 1, finalize: 1 };

/** Hooks awaited one after another; a returned value (a graph) replaces the first argument for the next plugin. */
export type SequentialHookName = 'setup' | 'transform' | 'export' | 'finalize';
/** Hooks started together and awaited together; results are collected. */
export type ParallelHookName = 'score' | 'observe';
/** Synchronous hooks whose results are folded into one value (mask: product; loss: named terms). */
export type ReduceHookName = 'mask' | 'loss';
/** Synchronous hooks where the first plugin to claim a tensor wins it. */
export type FirstHookName = 'quantize';
/** Hooks that undo: run in the exact reverse of their sorted order. */
export const TEARDOWN_HOOKS: ReadonlySet<HookName> = new Set<HookName>(['finalize']);

export type HookKind = 'sequential' | 'parallel' | 'reduce' | 'first';
export const HOOK_KIND: { [K in HookName]: K extends SequentialHookName ? 'sequential' : K extends ParallelHookName ? 'parallel' : K extends ReduceHookName ? 'reduce' : 'first' } = {
  setup: 'sequential',
  transform: 'sequential',
  export: 'sequential',
  finalize: 'sequential',
  score: 'parallel',
  observe: 'parallel',
  mask: 'reduce',
  loss: 'reduce',
  quantize: 'first',
};

/** What every hook sees: where the run is, the plugin's options and its own seeded random stream. */
export interface HookContext<O = unknown> {
  /** The plugin's validated options. */
  readonly options: O;
  /** Derived from the run seed, the plugin name and the position, so a resumed run draws the same numbers. */
  readonly rng: Rng;
  /** The run seed. */
  readonly seed: number;
  warn(message: string): void;
}

export interface StageInfo {
  readonly name: string;
  readonly index: number;
  readonly steps: number;
}

export interface StageContext<O = unknown> extends HookContext<O> {
  readonly stage: StageInfo;
  /** The student graph as it stands (read-only: return a new graph from `transform`). */
  readonly graph: Graph;
  /** The student weights; `transform` may set values of params it adds or reshapes. */
  readonly params: ParamStore;
  /** The stage's teacher graph (in `transform`), so a plugin can check it before training. */
  readonly teacherGraph?: Graph;
}

/** Param masks keyed by param name and feature masks keyed by value name (broadcast to the value). */
export interface Masks {
  params: ReadonlyMap<string, tf.Tensor>;
  features: ReadonlyMap<string, tf.Tensor>;
}

/** A mask hook's contribution; omitted maps contribute nothing. */
export interface MaskUpdate {
  params?: ReadonlyMap<string, tf.Tensor>;
  features?: ReadonlyMap<string, tf.Tensor>;
}

/** Forward and backward passes a `score` hook may run on its own (e.g. with a modality zeroed). */
export interface ScoreContext<O = unknown> extends StageContext<O> {
  /** A batch of the stage's data; `index` picks a deterministic batch. The caller owns the tensors. */
  batch(index: number): Promise<Batch>;
  /** Forward pass without gradients; the caller owns the returned tensors. */
  forward(feeds: Record<string, tf.Tensor>, options?: RunOptions): RunResult;
  /** Gradients of `lossOf(forward result)` w.r.t. the trainable student params; the caller owns the grads. */
  gradients(
    feeds: Record<string, tf.Tensor>,
    lossOf: (result: RunResult, feeds: Record<string, tf.Tensor>) => tf.Scalar,
    options?: RunOptions,
  ): { loss: number; grads: Map<string, tf.Tensor> };
  /** The model's task loss, for scores that need it. */
  taskLoss(outputs: Record<string, tf.Tensor>, batch: Batch): tf.Scalar;
  /** Current held masks. */
  readonly masks: Masks;
}

export interface StepContext<O = unknown> extends StageContext<O> {
  /** Step index within the stage. */
  readonly step: number;
  /** Scores from this stage's `score` hooks, merged by name (empty when resumed mid-stage). */
  readonly scores: ReadonlyMap<string, tf.Tensor>;
}

export interface QuantizeSpec {
  weights?: Record<string, TensorTransform>;
  activations?: Record<string, TensorTransform>;
}

export interface LossContext<O = unknown> extends StepContext<O> {
  readonly batch: Batch;
  readonly student: { outputs: Record<string, tf.Tensor>; taps: Record<string, tf.Tensor> };
  readonly teacher?: { taps: Record<string, tf.Tensor> };
  /** Value names this plugin's `requires` resolved to, in order. */
  readonly required: { student: readonly string[]; teacher: readonly string[] };
}

/**
 * A loss term: a scalar, or a scalar with a weight (default 1). With `gradientShare` the runtime
 * picks the weight instead: at the first step of each stage it measures the term's gradient norm
 * and the task loss's, sets the weight to `gradientShare · ‖∇task‖ / ‖∇term‖` so the term drives
 * that share of the update, and keeps it for the rest of the stage (checkpoints keep it too; it is
 * reported as the metric `weight/<plugin>/<term>`). `weight` is then ignored.
 */
export type LossTerm = tf.Scalar | { value: tf.Scalar; weight?: number; gradientShare?: number };

export interface RunContext<O = unknown> extends HookContext<O> {
  readonly graph: Graph;
  readonly params: ParamStore;
}

export interface ObserveContext<O = unknown> extends HookContext<O> {
  readonly events: Observable<TrainEvent>;
}

export interface FinalizeContext<O = unknown> extends RunContext<O> {
  readonly masks: Masks;
  /** Whether the run completed all stages. */
  readonly completed: boolean;
}

/** The artifact as it stands when a plugin's `export` hook runs (read-only: return a contribution). */
export interface ExportArtifact {
  /** The inference graph: train-only nodes stripped, earlier plugins' passes applied. */
  readonly graph: Graph;
  /** Its weights, the held masks multiplied in (pruned weights are exactly zero). */
  readonly params: ParamStore;
}

export interface ExportContext<O = unknown> extends HookContext<O> {
  /** The last stage this plugin was active in. */
  readonly stage: StageInfo;
  /** The masks the run held at its end (already multiplied into the artifact's weights). */
  readonly masks: Masks;
  /** ONNX opset the artifact is written in. */
  readonly opset: number;
}

/** How a plugin changes the way tensors are written to ONNX (a QDQ rewrite); see `OnnxExportOptions`. */
export type OnnxRewrite = Pick<OnnxExportOptions, 'paramHook' | 'activationHook'>;

/** What a plugin says it did to the artifact, for the run summary. */
export interface ExportReport {
  /** One line, e.g. "removed 412 of 1024 output channels". */
  summary: string;
  /** Structured detail (JSON-compatible), e.g. per-weight storage. */
  data?: unknown;
  /** Weights (by param) and activations (by value) the plugin stores below float32, with their bits. */
  bitWidths?: { name: string; kind: 'weight' | 'activation'; bits: number }[];
}

/**
 * A plugin's part of the deployable artifact: a rewritten graph with its weights (the runtime takes
 * ownership of `params`), an ONNX rewrite applied when the file is written, and a report.
 */
export interface ExportContribution {
  graph?: Graph;
  params?: ParamStore;
  onnx?: OnnxRewrite;
  report?: ExportReport;
}

type Awaitable<T> = T | Promise<T>;

/** Every hook's handler signature, keyed by name. */
export interface HookHandlers<O = unknown> {
  setup: (ctx: RunContext<O>) => Awaitable<void>;
  transform: (graph: Graph, ctx: StageContext<O>) => Awaitable<Graph | void>;
  score: (ctx: ScoreContext<O>) => Awaitable<Record<string, tf.Tensor> | void>;
  mask: (held: Masks, ctx: StepContext<O>) => MaskUpdate | void;
  quantize: (ctx: StepContext<O>) => QuantizeSpec | void;
  loss: (ctx: LossContext<O>) => Record<string, LossTerm> | void;
  /** Subscribe to the event stream; return the teardown (or a Subscription). Must not change training. */
  observe: (ctx: ObserveContext<O>) => Awaitable<(() => void) | { unsubscribe(): void } | void>;
  /**
   * Contribute to the deployable model, after the last stage of a completed run. Graph passes
   * apply in hook order (each plugin sees the previous one's graph); ONNX rewrites are composed
   * when the file is written, the first plugin to handle a tensor writing it.
   */
  export: (artifact: ExportArtifact, ctx: ExportContext<O>) => Awaitable<ExportContribution | void>;
  finalize: (ctx: FinalizeContext<O>) => Awaitable<void>;
}

export type HookOrder = 'pre' | 'post';

/** A hook is its handler, or `{ handler, order }` to run it before ('pre') or after ('post') the others. */
export type ObjectHook<H> = H | { handler: H; order?: HookOrder };

/**
 * What a plugin saves at a checkpoint: JSON-compatible data (typed arrays are kept bit-exact) and
 * named tensors. The runtime copies the tensors when it writes; the plugin keeps owning them.
 */
export interface PluginStateSnapshot {
  json?: unknown;
  tensors?: ReadonlyMap<string, tf.Tensor>;
}

/**
 * Optional cross-step state of a plugin (calibrated ranges, counters, plugin-owned tensors), so a
 * resumed run continues exactly where the interrupted one stopped. Not a hook: the runtime calls
 * `save` whenever it writes a checkpoint and `restore` once, after `setup`, when it resumes from a
 * checkpoint that holds state of this plugin.
 */
export interface PluginState {
  save(): PluginStateSnapshot;
  /** The tensors are disposed when `restore` returns: copy (`tf.clone`, `tf.keep`) what you keep. */
  restore(snapshot: { json: unknown; tensors: ReadonlyMap<string, tf.Tensor> }): void;
}

export type PluginHooks<O = unknown> = { [K in HookName]?: ObjectHook<HookHandlers<O>[K]> } & { state?: PluginState };
