import type * as tf from '@tensorflow/tfjs';
import { BevzipError, definePlugin, ERROR_CODES, foldBatchNorm, STAGES, type Graph, type ParamStore, type TensorTransform } from '@bevzip/ir';
import { z } from 'zod';
import { quantTransforms, RangeTracker, type QuantState } from './calibration';
import { qdqRewrite, weightStorageFor } from './export-qdq';
import { DEFAULT_PARTS, enabledSubset, planQuantization, type QuantPlan } from './plan';

const bits = z.number().int().min(2).max(8);
const edge = z.enum(['quantize', '8bit', 'skip']);

/** Ops QD-BEV quantizes that onnxruntime's CPU provider has no integer kernel for, and why. */
export const NO_INTEGER_KERNEL: Readonly<Record<string, string>> = {
  conv_transpose2d: "onnxruntime's CPU provider has no QLinearConvTranspose, so DequantizeLinear → ConvTranspose stays float",
};

/** Layers of a plan that the exported file runs in float. */
export function floatRunLayers(plan: Pick<QuantPlan, 'layers'>): QuantPlan['layers'] {
  return plan.layers.filter((l) => NO_INTEGER_KERNEL[l.op] !== undefined);
}

/** Options of {@link qdbevQuantize}. */
export const quantizeOptions = z.strictObject({
  /** Weight bit-width (per output channel). */
  wBits: bits.default(4),
  /** Activation bit-width (per tensor). */
  aBits: bits.default(6),
  /** Ops whose weights and input activations are quantized. */
  ops: z.array(z.enum(['conv2d', 'dense', 'conv_transpose2d'])).min(1).default(['conv2d', 'dense']),
  /** Named parts, each a list of stage tags; quantization is switched on part by part. */
  parts: z.record(z.string().min(1), z.array(z.enum(STAGES)).min(1)).default({ ...DEFAULT_PARTS } as Record<string, (typeof STAGES)[number][]>),
  /** Layers reading a graph input. */
  firstLayer: edge.default('8bit'),
  /** Layers writing a graph output. */
  lastLayer: edge.default('8bit'),
  /** ReLU outputs use the unsigned range [0, 2^k − 1] (zero point still 0). */
  unsignedAfterRelu: z.boolean().default(true),
  /**
   * Quantize each quantized layer's output as well as its input, so that the exported model has
   * every quantized conv/dense between DequantizeLinear and QuantizeLinear and onnxruntime runs it
   * as an integer kernel. `false` quantizes inputs only (those convs then run in float in ORT).
   */
  quantizeOutputs: z.boolean().default(true),
  /**
   * Fold each batch norm into the conv/dense before it when the plugin's first stage starts, so QAT
   * trains (and calibrates) the folded weights that are deployed; `false` quantizes the unfolded
   * conv weights, and the exported file then keeps its BatchNormalization nodes in float.
   */
  foldBatchNorm: z.boolean().default(true),
  /**
   * How weights of 4 bits or fewer are stored in the exported file: 'int8' codes in the k-bit range
   * (portable QDQ; onnxruntime runs integer QLinearConv kernels) or 'int4', packed two a byte for
   * onnxruntime's com.microsoft DequantizeLinear (half the weight bytes; the layers then run as
   * float convs on dequantized weights, and only onnxruntime reads the file).
   */
  weightStorage: z.enum(['int8', 'int4']).default('int8'),
  /**
   * Quantized layers the exported file cannot run as integer kernels in onnxruntime (ConvTranspose
   * has no QLinear form there): 'warn' names them before training and in the export report (they
   * keep int8-stored weights and run in float); 'require' refuses the pipeline before training.
   */
  integerKernels: z.enum(['warn', 'require']).default('warn'),
  calibration: z
    .strictObject({
      mode: z.enum(['max', 'ema', 'percentile']).default('max'),
      /** Batches read when a part's activations are first quantized. */
      batches: z.number().int().min(1).default(4),
      momentum: z.number().min(0).max(1).default(0.9),
      percentile: z.number().gt(50).max(100).default(99.99),
    })
    .prefault({}),
  /**
   * Parts quantized in each pipeline stage, by stage name (progressive QAT lists them cumulatively);
   * a stage not listed quantizes every part. Omit to quantize everything everywhere.
   */
  schedule: z.record(z.string(), z.array(z.string())).optional(),
  /** Calibrated |r_max| by value name to start from (a previous run's state), so those activations are not recalibrated. */
  ranges: z.record(z.string(), z.number().nonnegative()).optional(),
  /** Receives the plan, the calibrated ranges and the parts quantized in the last stage, at run end. */
  onState: z.custom<(state: QuantState & { enabled: string[] }) => void>((v) => typeof v === 'function', 'must be a function').optional(),
});
export type QdbevQuantizeOptions = z.input<typeof quantizeOptions>;
type Resolved = z.output<typeof quantizeOptions>;

/** The parts quantized in a pipeline stage under the options' schedule. */
export function partsForStage(o: Pick<Resolved, 'schedule' | 'parts'>, stage: string): string[] {
  return o.schedule?.[stage] ?? Object.keys(o.parts);
}

/**
 * Folds the graph's batch norms into the layers before them and writes the folded weights into
 * `params` (names are kept: a layer's weight stays its weight); undefined when there is none to fold.
 */
function foldInto(graph: Graph, params: ParamStore): Graph | undefined {
  if (!graph.nodes.some((n) => n.op === 'batchnorm')) return undefined;
  const folded = foldBatchNorm(graph, params);
  try {
    if (folded.graph.nodes.length === graph.nodes.length) return undefined;
    for (const p of folded.graph.params) params.set(p.name, folded.params.get(p.name), p.trainable);
    return folded.graph;
  } finally {
    folded.params.dispose();
  }
}

/**
 * Progressive schedule: stage i quantizes parts 0 … i (backbone, then + neck, …), as Algorithm 1.
 * @example qdbevQuantize({ schedule: progressiveSchedule(['q-backbone', 'q-neck', 'q-encoder', 'q-decoder']) })
 */
export function progressiveSchedule(stageNames: readonly string[], parts: readonly string[] = Object.keys(DEFAULT_PARTS)): Record<string, string[]> {
  return Object.fromEntries(stageNames.map((s, i) => [s, parts.slice(0, Math.min(i + 1, parts.length))]));
}

/**
 * QD-BEV quantization through the `quantize` hook: symmetric fake quantization of conv/dense
 * weights (per output channel) and of their input activations (per tensor, ranges calibrated when a
 * part is first switched on, in that stage's `score` hook, with the earlier parts already
 * quantized). Straight-through gradients make the same plugin serve PTQ (a 0-step stage) and QAT.
 */
export const qdbevQuantize = definePlugin({
  name: 'qdbev',
  version: '0.1.0',
  apiVersion: '^1.0.0',
  description: 'QD-BEV k-bit quantization (PTQ and progressive QAT) of conv/dense weights and activations',
  options: quantizeOptions,
  hooks: (o) => {
    let plan: QuantPlan | undefined;
    const ranges: Record<string, number> = { ...o.ranges };
    let enabled: string[] = [];
    let cached: { stage: string; weights: Record<string, TensorTransform>; activations: Record<string, TensorTransform> } | undefined;
    const state = (): QuantState => ({ plan: plan!, ranges });
    const transforms = (parts: string[]) => quantTransforms(state(), parts);
    return {
      setup: (ctx) => {
        plan = planQuantization(ctx.graph, o);
        const floatRun = floatRunLayers(plan);
        if (floatRun.length === 0) return;
        const list = floatRun.map((l) => `'${l.node}' (${l.op}: ${NO_INTEGER_KERNEL[l.op]})`).join('; ');
        if (o.integerKernels === 'require') {
          throw new BevzipError(ERROR_CODES.PLUGIN_OPTIONS, `options.integerKernels is 'require', but ${floatRun.length} quantized layer(s) cannot run as integer kernels in onnxruntime: ${list}. Drop ${[...new Set(floatRun.map((l) => l.op))].join('/')} from options.ops, or allow float layers with integerKernels: 'warn'`);
        }
        ctx.warn(`${floatRun.length} quantized layer(s) will run in float in the exported file (weights stored as int8 codes): ${list}`);
      },
      transform: (graph, ctx) => {
        const folded = o.foldBatchNorm ? foldInto(graph, ctx.params) : undefined;
        // The plan follows the graph as it is now (folding renames layer outputs; other plugins may rewrite).
        plan = planQuantization(folded ?? graph, o);
        cached = undefined;
        return folded;
      },
      score: async (ctx) => {
        enabled = partsForStage(o, ctx.stage.name);
        const unknown = enabled.filter((p) => !(p in o.parts));
        if (unknown.length) throw new Error(`schedule of stage '${ctx.stage.name}' names part(s) ${unknown.join(', ')}; parts are ${Object.keys(o.parts).join(', ')}`);
        const pending = enabledSubset(plan!, enabled).activations.filter((v) => ranges[v] === undefined);
        if (pending.length === 0) return;
        const tracker = new RangeTracker(o.calibration.mode === 'ema' ? { kind: 'ema', momentum: o.calibration.momentum } : o.calibration.mode === 'percentile' ? { kind: 'percentile', percentile: o.calibration.percentile } : { kind: 'max' });
        const { weights, activations } = transforms(enabled);
        for (let i = 0; i < o.calibration.batches; i++) {
          const batch = await ctx.batch(i);
          let taps: Record<string, tf.Tensor> = {};
          try {
            taps = ctx.forward(batch.feeds, { outputs: [], taps: pending, weightTransforms: weights, activationTransforms: activations }).taps;
            for (const v of pending) tracker.update(v, taps[v]);
          } finally {
            for (const t of [...Object.values(batch.feeds), ...Object.values(taps)]) t.dispose();
          }
        }
        Object.assign(ranges, tracker.result());
        cached = undefined;
      },
      quantize: (ctx) => {
        if (!cached || cached.stage !== ctx.stage.name) {
          enabled = partsForStage(o, ctx.stage.name);
          const t = transforms(enabled);
          cached = { stage: ctx.stage.name, weights: Object.fromEntries(t.weights), activations: Object.fromEntries(t.activations) };
        }
        return { weights: cached.weights, activations: cached.activations };
      },
      // Ranges calibrated in a stage's `score` must outlive a kill: a resumed stage skips `score`.
      state: {
        save: () => ({ json: { ranges: { ...ranges } } }),
        restore: ({ json }) => {
          const saved = (json as { ranges?: Record<string, number> } | null)?.ranges;
          if (!saved || typeof saved !== 'object') throw new Error('checkpoint state has no calibrated ranges');
          for (const k of Object.keys(ranges)) delete ranges[k];
          Object.assign(ranges, saved);
          cached = undefined;
        },
      },
      export: (_artifact, ctx) => {
        if (!plan) return;
        const parts = partsForStage(o, ctx.stage.name);
        const { layers, activations } = enabledSubset(plan, parts);
        const calibrated = activations.filter((v) => ranges[v] !== undefined);
        const uncalibrated = activations.length - calibrated.length;
        if (uncalibrated > 0) ctx.warn(`${uncalibrated} activation(s) of parts ${parts.join(', ')} were never calibrated and stay float in the exported model`);
        const { rewrite, weights } = qdqRewrite(state(), parts, { weightStorage: o.weightStorage });
        const floatRun = floatRunLayers({ ...plan, layers });
        const bitsOf = [...new Set(layers.map((l) => l.wBits))].sort((a, b) => a - b);
        const low = bitsOf.filter((b) => b < 8);
        const packed = low.filter((b) => weightStorageFor(b, o.weightStorage) === 'int4');
        const codes = low.filter((b) => !packed.includes(b));
        const storage = [
          packed.length ? `; ${packed.join('/')}-bit weights packed INT4 two a byte (com.microsoft DequantizeLinear: onnxruntime only, float convs)` : '',
          codes.length ? `; ${codes.join('/')}-bit weights as int8 codes in the k-bit range (integer kernels)` : '',
          floatRun.length ? `; ${floatRun.length} layer(s) run in float in onnxruntime: ${floatRun.map((l) => `${l.node} (${l.op})`).join(', ')}` : '',
        ].join('');
        return {
          onnx: rewrite,
          report: {
            summary: `QDQ: ${layers.length} conv/dense weights per output channel (W${bitsOf.join('/')}), ${calibrated.length} activations per tensor (A${[...new Set(calibrated.map((v) => plan!.activations[v].bits))].sort().join('/')})${storage}`,
            data: { parts, weights, activations: calibrated.map((v) => ({ value: v, bits: plan!.activations[v].bits, signed: plan!.activations[v].signed })) },
            bitWidths: [
              ...layers.map((l) => ({ name: l.weight, kind: 'weight' as const, bits: l.wBits })),
              ...calibrated.map((v) => ({ name: v, kind: 'activation' as const, bits: plan!.activations[v].bits })),
            ],
          },
        };
      },
      finalize: () => {
        if (plan) o.onState?.({ plan, ranges: { ...ranges }, enabled: [...enabled] });
      },
    };
  },
});
