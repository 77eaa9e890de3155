import { tinyConvGraph } from '@bevzip/ir/testing';
import type { Graph, Plugin, PluginFactory } from '@bevzip/ir';
import { deepFreeze } from './deep-freeze';
import { maskedFraction, runPlugin, type HarnessOptions } from './harness';
import { jestGlobalsFramework, type TestFramework } from './test-framework';

export interface CaseExpectation {
  /** Fraction of zeros over all param masks after the run, within 1e-9. */
  maskedFraction?: number;
  /** Shapes of values in the graph after `transform`, by value name. */
  shapes?: Record<string, number[]>;
  /** For invalid cases: the run must fail with a message matching this. */
  error?: RegExp;
}

export interface PluginCase<O = unknown> {
  name: string;
  /** Default: a small conv → batchnorm → relu → conv graph. */
  graph?: Graph;
  options: O;
  expect?: CaseExpectation;
  only?: boolean;
  skip?: boolean;
}

export interface PluginCases<O = unknown> {
  valid: PluginCase<O>[];
  invalid: PluginCase<O>[];
}

export interface PluginTesterOptions extends HarnessOptions {
  framework?: TestFramework;
}

type AnyFactory = PluginFactory<any> | ((options?: any) => Plugin);

/**
 * Runs a plugin over tables of cases from the plugin author's own test suite, in the manner of a
 * lint rule tester: each valid case must run (and meet its expectations), each invalid case must
 * fail with a matching error. Graphs and options are deep-frozen, so a plugin that mutates them fails.
 *
 * @example
 * new PluginTester().run('magnitude-pruning', magnitudePruning, {
 *   valid: [{ name: 'half', options: { sparsity: 0.5 }, expect: { maskedFraction: 0.5 } }],
 *   invalid: [{ name: 'sparsity above 1', options: { sparsity: 2 }, expect: { error: /option 'sparsity'/ } }],
 * });
 */
export class PluginTester {
  private readonly framework: TestFramework;

  constructor(private readonly options: PluginTesterOptions = {}) {
    this.framework = options.framework ?? jestGlobalsFramework;
  }

  run<O>(name: string, factory: AnyFactory, cases: PluginCases<O>): void {
    checkCases(name, cases);
    const f = this.framework;
    f.describe(name, () => {
      for (const [kind, list] of [['valid', cases.valid], ['invalid', cases.invalid]] as const) {
        f.describe(kind, () => {
          for (const c of list) {
            const register = c.skip ? f.itSkip : c.only ? f.itOnly : f.it;
            register(c.name, () => (kind === 'valid' ? this.valid(factory, c) : this.invalid(factory, c)));
          }
        });
      }
    });
  }

  private async valid<O>(factory: AnyFactory, c: PluginCase<O>): Promise<void> {
    const graph = deepFreeze(structuredClone(c.graph ?? tinyConvGraph()));
    const result = await runPlugin(factory(deepFreeze(structuredClone(c.options))), graph, this.options);
    const e = c.expect ?? {};
    if (e.maskedFraction !== undefined) {
      const got = maskedFraction(result.masks);
      if (Math.abs(got - e.maskedFraction) > 1e-9) throw new Error(`case '${c.name}': masked fraction ${got}, expected ${e.maskedFraction}`);
    }
    for (const [value, shape] of Object.entries(e.shapes ?? {})) {
      const got = result.graph.values[value]?.shape ?? result.graph.inputs.find((i) => i.name === value)?.shape;
      if (!got) throw new Error(`case '${c.name}': the graph after the run has no value '${value}'`);
      if (got.join(',') !== shape.join(',')) throw new Error(`case '${c.name}': value '${value}' has shape [${got}], expected [${shape}]`);
    }
  }

  private async invalid<O>(factory: AnyFactory, c: PluginCase<O>): Promise<void> {
    const graph = deepFreeze(structuredClone(c.graph ?? tinyConvGraph()));
    let error: unknown;
    try {
      await runPlugin(factory(deepFreeze(structuredClone(c.options))), graph, this.options);
    } catch (e) {
      error = e;
    }
    if (!error) throw new Error(`case '${c.name}': expected an error matching ${c.expect!.error}, but the run succeeded`);
    const message = error instanceof Error ? error.message : String(error);
    if (!c.expect!.error!.test(message)) throw new Error(`case '${c.name}': error "${message}" does not match ${c.expect!.error}`);
  }
}

/** Rejects tables a tester cannot run meaningfully: no cases, unnamed or duplicate cases, misplaced `error`. */
export function checkCases(name: string, cases: PluginCases<unknown>): void {
  if (cases.valid.length + cases.invalid.length === 0) throw new Error(`plugin tester '${name}': no cases given`);
  const seen = new Set<string>();
  for (const [kind, list] of [['valid', cases.valid], ['invalid', cases.invalid]] as const) {
    for (const c of list) {
      if (!c || typeof c.name !== 'string' || c.name.trim() === '') throw new Error(`plugin tester '${name}': a ${kind} case has no name`);
      if (seen.has(c.name)) throw new Error(`plugin tester '${name}': duplicate case name '${c.name}'`);
      seen.add(c.name);
      if (kind === 'valid' && c.expect?.error) throw new Error(`plugin tester '${name}': valid case '${c.name}' must not expect an error`);
      if (kind === 'invalid' && !c.expect?.error) throw new Error(`plugin tester '${name}': invalid case '${c.name}' needs expect.error`);
    }
  }
}
