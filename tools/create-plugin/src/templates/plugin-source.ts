import type { PluginNames } from '../names';

/**
 * `src/index.ts` of a new plugin: a working example (an L1 penalty on weights picked by tag) that
 * shows options, tag selection, a loss hook and `register`, ready to be replaced by the method.
 */
export function pluginSource(n: PluginNames, apiRange: string, description: string): string {
  return `import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { DependencyContainer } from 'tsyringe';
import { MODALITIES, PLUGIN, definePlugin, selectParams, sizeOf } from '@bevzip/ir';

const { version } = require('../package.json') as { version: string };

/** Options of {@link ${n.factory}}; omitted fields take the defaults shown. */
export const ${n.optionsSchema} = z.object({
  /** Weight of the penalty in the total loss. */
  weight: z.number().positive().default(1e-4),
  /** Penalise only weights tagged with these modalities; every weight when omitted. */
  modality: z.array(z.enum(MODALITIES)).nonempty().optional(),
});

export type ${capital(n.optionsSchema)} = z.input<typeof ${n.optionsSchema}>;

/**
 * ${description}
 *
 * Example method: adds \`weight · mean|w|\` over the trainable weights it selects by tag, which
 * pushes them towards zero. Replace the hooks with your method's; docs/hooks.md in the bevzip
 * repository lists every hook, its kind and what runs before and after it.
 */
export const ${n.factory} = definePlugin({
  name: '${n.packageName}',
  version,
  apiVersion: '${apiRange}',
  description: '${description.replace(/'/g, "\\'")}',
  options: ${n.optionsSchema},
  hooks: (o) => ({
    loss: (ctx) => {
      const selected = new Set(selectParams(ctx.graph, o.modality ? { modality: o.modality } : {}));
      const weights = ctx.graph.params.filter((p) => selected.has(p.name) && p.role === 'weight' && p.trainable);
      if (weights.length === 0) return;
      const count = weights.reduce((n, p) => n + sizeOf(p.shape), 0);
      const sum = tf.addN(weights.map((p) => tf.sum(tf.abs(ctx.params.get(p.name)))));
      return { l1: { value: tf.div(sum, count) as tf.Scalar, weight: o.weight } };
    },
  }),
});

/**
 * Registers the plugin (with these options) under bevzip's PLUGIN token; nothing registers on import.
 * A package with several plugins also exports them as \`plugins = { name: register, … }\` and lists
 * the names in package.json \`bevzip.plugins\`; a pipeline entry picks one with \`plugin: name\`.
 */
export function register(container: DependencyContainer, options?: ${capital(n.optionsSchema)}): void {
  container.register(PLUGIN, { useValue: ${n.factory}(options) });
}
`;
}

/** `src/index.spec.ts`: the plugin-tester tables, the conformance suite and a reference check of the loss. */
export function pluginSpec(n: PluginNames): string {
  return `import 'reflect-metadata';
import { container } from 'tsyringe';
import { PLUGIN, ParamStore, type Plugin } from '@bevzip/ir';
import { tinyConvGraph } from '@bevzip/ir/testing';
import { PluginTester, conformance, runPlugin } from '@bevzip/plugin-tester';
import { ${n.factory}, register } from './index';

const NAME = '${n.packageName}';

new PluginTester().run(NAME, ${n.factory}, {
  valid: [
    { name: 'penalises every weight by default', options: {} },
    { name: 'penalises only camera weights', options: { modality: ['camera'], weight: 0.5 } },
  ],
  invalid: [
    { name: 'negative weight', options: { weight: -1 }, expect: { error: /option 'weight'/ } },
    { name: 'unknown modality', options: { modality: ['radar'] }, expect: { error: /option 'modality\\[0\\]'/ } },
  ],
});

conformance(NAME, ${n.factory}, { options: { weight: 0.1 }, badOptions: [{ weight: 0 }, { modality: [] }] });

/** mean |w| over the camera-tagged weights of the tiny graph, summed in float64. */
function referenceL1(params: ParamStore): number {
  const graph = tinyConvGraph();
  let sum = 0;
  let count = 0;
  for (const p of graph.params.filter((q) => q.role === 'weight' && q.tags.modality === 'camera')) {
    for (const v of params.get(p.name).dataSync()) sum += Math.abs(v);
    count += p.shape.reduce((a, b) => a * b, 1);
  }
  return sum / count;
}

describe(NAME, () => {
  it('reports the unweighted term and adds weight × term to the total loss', async () => {
    const seed = 11;
    const graph = tinyConvGraph();
    const withPlugin = await runPlugin(${n.factory}({ modality: ['camera'], weight: 0.5 }), graph, { seed });
    const step = withPlugin.events.find((e) => e.type === 'step');
    if (step?.type !== 'step') throw new Error('the run emitted no step event');
    const params = ParamStore.init(graph, seed);
    const expected = referenceL1(params);
    params.dispose();
    expect(step.losses[NAME + '/l1']).toBeCloseTo(expected, 5);
    expect(step.total - step.losses.task).toBeCloseTo(0.5 * expected, 5);
  });

  it('register() puts one configured instance under the PLUGIN token', () => {
    const child = container.createChildContainer();
    register(child, { weight: 0.25 });
    const plugins = child.resolveAll<Plugin>(PLUGIN);
    expect(plugins.map((p) => [p.name, p.rawOptions])).toEqual([[NAME, { weight: 0.25 }]]);
  });
});
`;
}

function capital(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}
