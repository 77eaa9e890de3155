import * as tf from '@tensorflow/tfjs';
import { Pipeline, ParamStore, Rng, type Batch, type DataSource, type Graph, type Plugin, type TrainEvent } from '@bevzip/ir';

/** What one harness run of a plugin left behind, as host data (no live tensors). */
export interface HarnessResult {
  graph: Graph;
  masks: Map<string, { shape: number[]; values: Float32Array }>;
  scores: Map<string, Float32Array>;
  events: TrainEvent[];
}

export interface HarnessOptions {
  seed?: number;
  /** Training steps after score/mask; default 1 so `loss` and `quantize` hooks run too. */
  steps?: number;
  /** The stage's data; default random feeds for every graph input ({@link syntheticData}). */
  data?: (graph: Graph) => DataSource;
  /** The teacher's graph (weights drawn with seed + 1); default the student graph itself. */
  teacher?: Graph;
}

/** Random feeds for every graph input; unknown dims (-1) become 2. */
export function syntheticData(graph: Graph): DataSource {
  return {
    batch(step, { seed }): Batch {
      const rng = Rng.derive(seed, `plugin-tester:batch:${step}`);
      const feeds = Object.fromEntries(
        graph.inputs.map((i) => {
          const shape = i.shape.map((d) => (d === -1 ? 2 : d));
          const n = shape.reduce((a, b) => a * b, 1);
          return [i.name, tf.tensor(Float32Array.from({ length: n }, () => rng.next() * 2 - 1), shape)];
        }),
      );
      return { feeds };
    },
  };
}

const taskLoss = (outputs: Record<string, tf.Tensor>): tf.Scalar => tf.addN(Object.values(outputs).map((o) => tf.mean(tf.square(o)))) as tf.Scalar;

/**
 * Runs a plugin for one stage on a graph (teacher: the same graph with other weights, unless given), with a
 * `post` probe that copies the merged scores and the held masks to host arrays, then disposes
 * everything the run made.
 */
export async function runPlugin(plugin: Plugin, graph: Graph, { seed = 7, steps = 1, data = syntheticData, teacher: teacherGraph = graph }: HarnessOptions = {}): Promise<HarnessResult> {
  const scores = new Map<string, Float32Array>();
  const masks = new Map<string, { shape: number[]; values: Float32Array }>();
  const probe: Plugin = {
    name: '@bevzip/plugin-tester:probe',
    version: '0.0.0',
    apiVersion: '*',
    description: 'records scores and masks',
    rawOptions: {},
    definition: {
      name: '@bevzip/plugin-tester:probe',
      version: '0.0.0',
      apiVersion: '*',
      description: 'records scores and masks',
      // Any value passes: the probe has no options, and this package does not depend on zod itself.
      options: { safeParse: (v: unknown) => ({ success: true, data: v }) } as never,
      hooks: () => ({
        mask: {
          order: 'post',
          handler: (held, ctx) => {
            for (const [k, t] of ctx.scores) if (!scores.has(k)) scores.set(k, Float32Array.from(t.dataSync()));
            for (const [k, t] of held.params) masks.set(k, { shape: [...t.shape], values: Float32Array.from(t.dataSync()) });
          },
        },
      }),
    },
  };
  const teacher = { graph: teacherGraph, params: ParamStore.init(teacherGraph, seed + 1) };
  const pipeline = new Pipeline({ seed, graph, stages: [{ name: 'test', steps, data: data(graph), taskLoss, teacher }] }).use(plugin).use(probe);
  const events: TrainEvent[] = [];
  pipeline.events.subscribe((e) => events.push(e));
  try {
    const result = await pipeline.run();
    for (const [k, t] of result.masks.params) masks.set(k, { shape: [...t.shape], values: Float32Array.from(t.dataSync()) });
    result.params.dispose();
    for (const t of [...result.masks.params.values(), ...result.masks.features.values()]) t.dispose();
    return { graph: result.graph, masks, scores, events };
  } finally {
    teacher.params.dispose();
  }
}

/** Fraction of zero entries over all param masks (0 when there are none). */
export function maskedFraction(masks: HarnessResult['masks']): number {
  let zeros = 0;
  let total = 0;
  for (const { values } of masks.values()) {
    total += values.length;
    for (const v of values) if (v === 0) zeros++;
  }
  return total === 0 ? 0 : zeros / total;
}
