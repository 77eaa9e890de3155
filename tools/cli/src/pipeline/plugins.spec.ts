import * as path from 'node:path';
import { instantiatePlugins } from './plugins';
import { parsePipelineText } from './load-file';

const PRUNE = JSON.stringify(path.join(__dirname, 'fixtures', 'toy-prune'));

function pipeline(stages: string) {
  return parsePipelineText(`model: { builder: bev-fusion, config: micro }\ndata: { synthetic: { seed: 0, scenes: 1 } }\nstages:\n${stages}`, 'p.yaml');
}

describe('plugin packages of a pipeline', () => {
  const lookup = { cwd: __dirname, fileDir: __dirname };

  it('shares one instance between stages that list a package with the same options', () => {
    const p = pipeline(`  - { name: a, steps: 0, plugins: [{ use: ${PRUNE}, options: { sparsity: 0.5 } }] }\n  - { name: b, steps: 1, plugins: [{ use: ${PRUNE}, options: { sparsity: 0.5 } }] }\n  - { name: c, steps: 1 }\n`);
    const r = instantiatePlugins(p, lookup);
    expect(r.plugins.map((x) => x.name)).toEqual(['magnitude-pruning']);
    expect(r.stagePlugins).toEqual([['magnitude-pruning'], ['magnitude-pruning'], []]);
    expect(r.plugins[0].rawOptions).toEqual({ sparsity: 0.5 });
  });

  it('gives each differently configured use its own instance, named after its first stage', () => {
    const p = pipeline(`  - { name: a, steps: 0, plugins: [{ use: ${PRUNE}, options: { sparsity: 0.5 } }] }\n  - { name: b, steps: 1, plugins: [{ use: ${PRUNE}, options: { sparsity: 0.7 } }] }\n`);
    const r = instantiatePlugins(p, lookup);
    expect(r.plugins.map((x) => [x.name, x.rawOptions])).toEqual([
      ['magnitude-pruning@a', { sparsity: 0.5 }],
      ['magnitude-pruning@b', { sparsity: 0.7 }],
    ]);
    expect(r.stagePlugins).toEqual([['magnitude-pruning@a'], ['magnitude-pruning@b']]);
  });

  it('rejects a package without register() and lists every missing package at once', () => {
    const notPlugin = JSON.stringify(path.join(__dirname, 'load-file'));
    expect(() => instantiatePlugins(pipeline(`  - { name: a, steps: 0, plugins: [{ use: ${notPlugin} }] }\n`), lookup)).toThrow(/stages\[0\]\.plugins\[0\]: package '.*load-file' exports no register\(container, options\) function/);
    expect(() => instantiatePlugins(pipeline(`  - { name: a, steps: 0, plugins: [{ use: no-such-a }, { use: ./no-such-dir }] }\n  - { name: b, steps: 0, plugins: [{ use: no-such-a }] }\n`), lookup)).toThrow(
      "the pipeline uses plugin packages that are not installed: 'no-such-a' (stages[0].plugins[0].use, stages[1].plugins[0].use), './no-such-dir' (stages[0].plugins[1].use); install with: npm install no-such-a",
    );
  });
});
