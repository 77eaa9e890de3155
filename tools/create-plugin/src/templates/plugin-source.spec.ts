import * as ts from 'typescript';
import { ParamStore, type PluginFactory } from '@bevzip/ir';
import { tinyConvGraph } from '@bevzip/ir/testing';
import { maskedFraction, runPlugin } from '@bevzip/plugin-tester';
import { scaffoldFiles } from '../scaffold';

/** Compiles the generated src/index.ts and evaluates it against this workspace's packages. */
function loadGenerated(name: string): Record<string, any> {
  const { files } = scaffoldFiles({ name });
  const check = ts.transpileModule(files['src/index.ts'], {
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  });
  expect(check.diagnostics ?? []).toEqual([]);
  const module = { exports: {} as Record<string, any> };
  const localRequire = (id: string) =>
    id === '../package.json' ? JSON.parse(files['package.json']) : require(id);
  new Function('require', 'module', 'exports', check.outputText)(localRequire, module, module.exports);
  return module.exports;
}

/** mean |w| over the weights of the tiny graph with the given modality (any when omitted), in float64. */
function referenceL1(seed: number, modality?: string): number {
  const graph = tinyConvGraph();
  const params = ParamStore.init(graph, seed);
  let sum = 0;
  let count = 0;
  for (const p of graph.params.filter(
    (q) => q.role === 'weight' && (!modality || q.tags.modality === modality),
  )) {
    for (const v of params.get(p.name).dataSync()) sum += Math.abs(v);
    count += p.shape.reduce((a, b) => a * b, 1);
  }
  params.dispose();
  return sum / count;
}

describe('the generated plugin, run against this workspace', () => {
  const mod = loadGenerated('@acme/l1-example');
  const factory = mod.l1Example as PluginFactory<any>;

  it('exports the factory, its options schema and register', () => {
    expect(Object.keys(mod).sort()).toEqual(['l1Example', 'l1ExampleOptions', 'register']);
    expect(factory({}).name).toBe('@acme/l1-example');
    expect(factory({}).version).toBe('0.1.0');
  });

  it.each([
    ['every weight', undefined],
    ['the camera weights', 'camera'],
  ])('adds mean |w| of %s, as a float64 sum gives', async (_what, modality) => {
    const seed = 5;
    const options = modality ? { modality: [modality], weight: 0.25 } : { weight: 0.25 };
    const { events, masks } = await runPlugin(factory(options), tinyConvGraph(), { seed });
    const step = events.find((e) => e.type === 'step');
    if (step?.type !== 'step') throw new Error('no step event');
    const expected = referenceL1(seed, modality);
    expect(Math.abs(step.losses['@acme/l1-example/l1'] - expected) / expected).toBeLessThan(1e-6);
    expect(step.total - step.losses.task).toBeCloseTo(0.25 * expected, 6);
    expect(maskedFraction(masks)).toBe(0);
  });

  it('rejects options outside the schema with the option named', async () => {
    await expect(runPlugin(factory({ modality: ['radar'] }), tinyConvGraph())).rejects.toThrow(
      /invalid options: option 'modality\[0\]'/,
    );
  });
});
