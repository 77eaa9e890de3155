import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES } from '../errors';
import type { Graph } from '../graph';
import { exportOnnx, type OnnxExportOptions } from '../onnx/export';
import type { ParamStore } from '../params';
import { stripTrainOnly } from '../passes/strip-train-only';
import { validateGraph } from '../validate';
import { baseContext, type RunState } from './hook-contexts';
import type { ExportArtifact, ExportContext, ExportReport, OnnxRewrite, StageInfo } from './hooks';
import type { PipelineConfig } from './pipeline-config';
import type { LoadedPlugin, PluginDriver } from './plugin-driver';

/** How the runtime writes the compressed model at the end of a run. */
export interface ExportOptions {
  /** ONNX opset of the artifact; default 17. */
  opset?: number;
  producer?: string;
  /** Graph inputs baked into the file as constants (see `OnnxExportOptions.constantInputs`). */
  constantInputs?: OnnxExportOptions['constantInputs'];
}

/** The deployable model a run produced, with what each plugin did to it. */
export interface ExportResult {
  /** The ONNX model bytes. */
  onnx: Uint8Array;
  /** The inference graph the file was written from (after every plugin's passes). */
  graph: Graph;
  /** Weights of {@link graph}: how many there are and how many are not zero. */
  params: { total: number; nonZero: number };
  /** Per plugin, in the order the contributions were applied. */
  reports: (ExportReport & { plugin: string })[];
  opset: number;
}

/** The last stage each plugin was active in (plugins active nowhere export nothing). */
function lastActiveStages(config: PipelineConfig, plugins: readonly LoadedPlugin[]): Map<string, StageInfo> {
  const out = new Map<string, StageInfo>();
  config.stages.forEach((s, index) => {
    for (const p of plugins) if (!s.plugins || s.plugins.includes(p.name)) out.set(p.name, { name: s.name, index, steps: s.steps });
  });
  return out;
}

function countParams(graph: Graph, params: ParamStore): { total: number; nonZero: number } {
  let total = 0;
  let nonZero = 0;
  for (const p of graph.params) {
    const data = params.get(p.name).dataSync();
    total += data.length;
    for (let i = 0; i < data.length; i++) if (data[i] !== 0) nonZero++;
  }
  return { total, nonZero };
}

/**
 * Composes the ONNX rewrites of several plugins: for each param and each activation the first
 * plugin (in export order) whose hook handles it writes it; the others see it untouched.
 */
export function composeRewrites(rewrites: readonly OnnxRewrite[]): Pick<OnnxExportOptions, 'paramHook' | 'activationHook'> {
  const params = rewrites.flatMap((r) => (r.paramHook ? [r.paramHook] : []));
  const activations = rewrites.flatMap((r) => (r.activationHook ? [r.activationHook] : []));
  return {
    paramHook: params.length ? (ctx) => params.reduce<string | undefined>((hit, h) => hit ?? h(ctx), undefined) : undefined,
    activationHook: activations.length ? (ctx) => activations.reduce<string | undefined>((hit, h) => hit ?? h(ctx), undefined) : undefined,
  };
}

/**
 * Builds the run's deployable artifact: the student with train-only nodes stripped and the held
 * masks multiplied into its weights, then each plugin's `export` contribution in hook order —
 * graph passes (channel removal, folding) applied one after another, ONNX rewrites (QDQ) collected
 * — and one serialization with the rewrites composed.
 */
export async function buildExportArtifact(config: PipelineConfig, driver: PluginDriver, state: RunState, options: ExportOptions): Promise<ExportResult> {
  const opset = options.opset ?? 17;
  const stages = lastActiveStages(config, driver.plugins);
  const masks = state.masks.view;
  let graph = stripTrainOnly(state.graph);
  let params = state.params.clone();
  params.retain(graph);
  for (const [name, mask] of masks.params) {
    if (!params.has(name)) continue;
    const masked = tf.tidy(() => tf.mul(params.get(name), mask));
    params.set(name, masked, params.get(name).trainable);
    masked.dispose();
  }
  const rewrites: OnnxRewrite[] = [];
  const reports: ExportResult['reports'] = [];
  try {
    const active = new Set(stages.keys());
    await driver.hookSequential(
      'export',
      (p): [ExportArtifact, ExportContext<unknown>] => [{ graph, params }, { ...baseContext(state, p, 'export'), stage: stages.get(p.name)!, masks, opset }],
      (contribution, p) => {
        if (!contribution) return;
        if (contribution.graph || contribution.params) {
          if (!contribution.graph || !contribution.params) {
            throw new BevzipError(ERROR_CODES.PLUGIN_HOOK, `plugin '${p.name}' hook 'export': a rewritten graph comes with its params (return both or neither)`);
          }
          validateGraph(contribution.graph);
          if (contribution.params !== params) params.dispose();
          graph = contribution.graph;
          params = contribution.params;
          params.retain(graph);
        }
        if (contribution.onnx) rewrites.push(contribution.onnx);
        if (contribution.report) reports.push({ plugin: p.name, ...contribution.report });
      },
      active,
    );
    const onnx = exportOnnx(graph, params, { opset, producer: options.producer ?? 'bevzip', constantInputs: options.constantInputs, ...composeRewrites(rewrites) });
    return { onnx, graph, params: countParams(graph, params), reports, opset };
  } finally {
    params.dispose();
  }
}
