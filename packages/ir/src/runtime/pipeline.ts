import type { Observable } from 'rxjs';
import type { DependencyContainer } from 'tsyringe';
import { BevzipError, ERROR_CODES } from '../errors';
import type { Graph } from '../graph';
import { ParamStore } from '../params';
import { fileCheckpointStore } from './checkpoint-store';
import { buildExportArtifact, type ExportResult } from './export-artifact';
import { EventStream, type TrainEvent } from './events';
import type { RunState } from './hook-contexts';
import { baseContext } from './hook-contexts';
import type { Masks } from './hooks';
import { HeldMasks } from './masks';
import type { PipelineConfig } from './pipeline-config';
import type { Plugin } from './plugin';
import { hookError, PluginDriver, type LoadedPlugin } from './plugin-driver';
import { describeDifferences, fingerprintDifferences } from './fingerprint';
import { DEFAULT_TRAINING_SERVICES, type RestoredCheckpoint } from './services';
import { runStage } from './stage-runner';

/** What a finished run hands back; the caller owns (and disposes) `params` and the mask tensors. */
export interface PipelineResult {
  graph: Graph;
  params: ParamStore;
  masks: Masks;
  /** Set when the run started from a checkpoint. */
  resumedFrom?: { stage: number; step: number };
  /** The deployable model, when the config asked for one. */
  artifact?: ExportResult;
}

/**
 * A pipeline of stages with a set of plugins, run once. Plugins come from the DI container (all
 * registered under `PLUGIN`) and from {@link use}; {@link run} freezes the set. Subscribe to
 * {@link events} before calling `run`.
 *
 * @example
 * const pipeline = new Pipeline({ seed: 1, graph, stages: [{ name: 'prune', steps: 100, data, taskLoss }] }, container);
 * pipeline.events.subscribe((e) => e.type === 'step' && console.log(e.step, e.total));
 * const { params } = await pipeline.run();
 */
export class Pipeline {
  private readonly driver: PluginDriver;
  private readonly stream = new EventStream();
  /** The run's events, in order; completes when the run ends. */
  readonly events: Observable<TrainEvent> = this.stream.events;

  constructor(
    private readonly config: PipelineConfig,
    /** A container with plugins under `PLUGIN`, or a driver already holding the run's plugins. */
    plugins?: DependencyContainer | PluginDriver,
  ) {
    this.driver = plugins instanceof PluginDriver ? plugins : new PluginDriver(plugins);
  }

  /** Adds a plugin; throws E_FROZEN once the run has started. */
  use(plugin: Plugin): this {
    this.driver.use(plugin);
    return this;
  }

  async run(): Promise<PipelineResult> {
    const plugins = this.driver.start();
    const { config } = this;
    const restored = await this.restore();
    const masks = new HeldMasks();
    if (restored?.masks) masks.restore(restored.masks);
    const state: RunState = {
      seed: config.seed,
      stream: this.stream,
      graph: restored?.graph ?? config.graph,
      params: restored?.params ?? config.params?.clone() ?? ParamStore.init(config.graph, config.seed),
      masks,
      termWeights: new Map(Object.entries((restored?.extra?.termWeights ?? {}) as Record<string, number>)),
    };
    if (restored?.masks) for (const m of [...restored.masks.params.values(), ...restored.masks.features.values()]) m.dispose();
    const teardowns: (() => void)[] = [];
    let completed = false;
    let failure: unknown;
    let artifact: ExportResult | undefined;
    try {
      const observed = await this.driver.hookParallel('observe', (p) => [{ ...baseContext(state, p, 'observe'), events: this.events }]);
      for (const { result } of observed) if (result) teardowns.push(typeof result === 'function' ? result : () => result.unsubscribe());
      const position = restored?.position ?? { stage: 0, step: 0 };
      this.stream.emit({
        type: 'run-start',
        seed: config.seed,
        stages: config.stages.map((s) => s.name),
        plugins: plugins.map((p) => p.name),
        resumedFrom: restored ? { stage: config.stages[position.stage]?.name ?? '(end)', step: position.step } : undefined,
      });
      await this.driver.hookSequential('setup', (p) => [{ ...baseContext(state, p, 'setup'), graph: state.graph, params: state.params }]);
      if (restored) restorePluginStates(plugins, restored);
      const services = config.services ?? DEFAULT_TRAINING_SERVICES;
      for (let index = position.stage; index < config.stages.length; index++) {
        // Between stages the last stage-end checkpoint is the resume point.
        if (config.stop?.aborted && index > position.stage) {
          throw new BevzipError(ERROR_CODES.INTERRUPTED, `stopped on request before stage '${config.stages[index].name}'${config.checkpoint ? `, with a checkpoint at the end of the stage before in ${config.checkpoint.dir}` : ''}`);
        }
        const resuming = index === position.stage && position.step > 0;
        await runStage({ config, driver: this.driver, services, state, index, startStep: resuming ? position.step : 0, optimizerState: resuming ? restored?.optimizerState : undefined });
      }
      if (config.export) artifact = await buildExportArtifact(config, this.driver, state, config.export);
      completed = true;
    } catch (e) {
      failure = e;
    }
    try {
      await this.driver.hookSequential('finalize', (p) => [{ ...baseContext(state, p, 'finalize'), graph: state.graph, params: state.params, masks: masks.view, completed }]);
    } catch (e) {
      failure ??= e;
    }
    this.stream.emit({ type: 'run-end', completed: completed && !failure, error: failure instanceof Error ? failure.message : undefined });
    for (const teardown of teardowns.reverse()) teardown();
    this.stream.complete();
    if (failure) {
      state.params.dispose();
      masks.dispose();
      throw failure;
    }
    return { graph: state.graph, params: state.params, masks: masks.view, resumedFrom: restored?.position, artifact };
  }

  private async restore(): Promise<RestoredCheckpoint | undefined> {
    const ck = this.config.checkpoint;
    if (!ck) return undefined;
    if (!(ck.every >= 1 && Number.isInteger(ck.every))) throw new BevzipError(ERROR_CODES.CONFIG, `checkpoint.every must be a positive integer, got ${ck.every}`);
    const store = ck.store ?? fileCheckpointStore;
    for (const line of (await store.recover?.(ck.dir)) ?? []) this.stream.emit({ type: 'warning', code: 'W_CHECKPOINT_RECOVERED', message: `${ck.dir}: ${line}` });
    if (ck.resume === false) return undefined;
    const dir = await store.latest(ck.dir);
    if (!dir) {
      if (ck.resume !== 'required') return undefined;
      const incomplete = (await store.incomplete?.(ck.dir)) ?? [];
      const why = incomplete.length ? `; incomplete checkpoint(s) without a manifest were skipped: ${incomplete.join(', ')}` : '';
      throw new BevzipError(ERROR_CODES.CHECKPOINT, `nothing to resume: no complete checkpoint in ${ck.dir}${why}. Start without resume to run from step 0`);
    }
    const restored = await store.read(dir);
    if (ck.fingerprint) {
      const diffs = fingerprintDifferences(restored.extra?.fingerprint, ck.fingerprint);
      if (diffs.length) {
        disposeRestored(restored);
        throw new BevzipError(ERROR_CODES.CHECKPOINT, `checkpoint '${dir}' was written by a different pipeline or model, so it cannot be resumed: ${describeDifferences(diffs)}`);
      }
    }
    if (restored.position.stage > this.config.stages.length) {
      throw new BevzipError(ERROR_CODES.CHECKPOINT, `checkpoint '${dir}' is at stage ${restored.position.stage}, but the pipeline has ${this.config.stages.length} stages`);
    }
    return restored;
  }
}

function disposeRestored(r: RestoredCheckpoint): void {
  r.params.dispose();
  for (const t of [...(r.masks?.params.values() ?? []), ...(r.masks?.features.values() ?? []), ...(r.extraTensors?.values() ?? [])]) t.dispose();
}

/** Hands each stateful plugin what it saved in the checkpoint; the tensors are disposed afterwards. */
function restorePluginStates(plugins: readonly LoadedPlugin[], restored: RestoredCheckpoint): void {
  const saved = (restored.extra?.plugins ?? {}) as Record<string, unknown>;
  try {
    for (const p of plugins) {
      if (!p.hooks.state || !(p.name in saved)) continue;
      const prefix = `${p.name}/`;
      const tensors = new Map([...(restored.extraTensors ?? [])].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
      try {
        p.hooks.state.restore({ json: saved[p.name], tensors });
      } catch (e) {
        throw hookError(p.name, 'state.restore', e);
      }
    }
  } finally {
    for (const t of restored.extraTensors?.values() ?? []) t.dispose();
  }
}
