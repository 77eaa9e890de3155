import * as tf from '@tensorflow/tfjs';
import { BevzipError, validateGraph, type Graph, type Plugin } from '@bevzip/ir';
import { tinyConvGraph } from '@bevzip/ir/testing';
import { deepFreeze } from './deep-freeze';
import { runPlugin, type HarnessOptions, type HarnessResult } from './harness';
import { jestGlobalsFramework, type TestFramework } from './test-framework';

/** The checks every plugin passes unless it excludes one with a reason. */
export const CONFORMANCE_CHECKS = [
  'graph valid after transform',
  'output shapes kept',
  'masks binary',
  'scores and masks deterministic under a seed',
  'no tensor leaks',
  'options schema rejects bad options',
] as const;
export type ConformanceCheck = (typeof CONFORMANCE_CHECKS)[number];

export interface ConformanceOptions<O> extends HarnessOptions {
  /** Options for a normal run. */
  options: O;
  /** Options the schema must reject with E_PLUGIN_OPTIONS (at least one, unless that check is excluded). */
  badOptions: unknown[];
  graph?: Graph;
  /** The plugin promises masks of only 0 and 1; without it, `masks binary` is skipped as not promised. */
  binaryMasks?: boolean;
  /** Checks not run, each with the reason, shown in the skipped test's title. */
  exclude?: Partial<Record<ConformanceCheck, string>>;
  framework?: TestFramework;
}

const sameArrays = (a: Map<string, Float32Array>, b: Map<string, Float32Array>) =>
  a.size === b.size && [...a].every(([k, v]) => b.has(k) && v.length === b.get(k)!.length && v.every((x, i) => Object.is(x, b.get(k)![i])));

/**
 * Registers the conformance suite for a plugin: the same checks for every plugin, ours and third
 * parties', run from the plugin's own test suite.
 *
 * @example
 * conformance('magnitude-pruning', magnitudePruning, { options: { sparsity: 0.5 }, badOptions: [{ sparsity: -1 }], binaryMasks: true });
 */
export function conformance<O>(name: string, factory: (options?: any) => Plugin, opts: ConformanceOptions<O>): void {
  const f = opts.framework ?? jestGlobalsFramework;
  const graph = () => deepFreeze(structuredClone(opts.graph ?? tinyConvGraph()));
  const once = () => runPlugin(factory(deepFreeze(structuredClone(opts.options))), graph(), opts);
  const checks: Record<ConformanceCheck, () => Promise<void>> = {
    'graph valid after transform': async () => validateGraph((await once()).graph),
    'output shapes kept': async () => {
      const before = graph();
      const after = (await once()).graph;
      for (const o of before.outputs) {
        const want = before.values[o].shape.join(',');
        const got = after.values[o]?.shape.join(',');
        if (got !== want) throw new Error(`output '${o}' has shape [${got}] after the run, [${want}] before`);
      }
    },
    'masks binary': async () => {
      for (const [k, { values }] of (await once()).masks) {
        const bad = values.find((v) => v !== 0 && v !== 1);
        if (bad !== undefined) throw new Error(`mask '${k}' holds ${bad}, but the plugin promises binary masks`);
      }
    },
    'scores and masks deterministic under a seed': async () => {
      const [a, b]: HarnessResult[] = [await once(), await once()];
      const masks = (r: HarnessResult) => new Map([...r.masks].map(([k, m]) => [k, m.values]));
      if (!sameArrays(a.scores, b.scores)) throw new Error('two runs with the same seed gave different scores');
      if (!sameArrays(masks(a), masks(b))) throw new Error('two runs with the same seed gave different masks');
    },
    'no tensor leaks': async () => {
      await once();
      const before = tf.memory().numTensors;
      await once();
      const after = tf.memory().numTensors;
      if (after !== before) throw new Error(`a run left ${after - before} tensors alive`);
    },
    'options schema rejects bad options': async () => {
      if (opts.badOptions.length === 0) throw new Error('give at least one entry in badOptions');
      for (const bad of opts.badOptions) {
        const error = await runPlugin(factory(deepFreeze(structuredClone(bad))), graph(), opts).then(() => undefined, (e: unknown) => e);
        if (!(error instanceof BevzipError && error.code === 'E_PLUGIN_OPTIONS')) {
          throw new Error(`options ${JSON.stringify(bad)} were not rejected with E_PLUGIN_OPTIONS${error ? ` (got: ${(error as Error).message})` : ''}`);
        }
      }
    },
  };
  f.describe(`${name} conformance`, () => {
    for (const check of CONFORMANCE_CHECKS) {
      const reason = opts.exclude?.[check] ?? (check === 'masks binary' && !opts.binaryMasks ? 'binary masks not promised' : undefined);
      if (reason) f.itSkip(`${check} (excluded: ${reason})`, checks[check]);
      else f.it(check, checks[check]);
    }
  });
}
