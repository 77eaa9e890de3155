import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { instantiatePlugins, type PluginLookup } from './plugins';
import { parsePipelineText } from './load-file';
import { listPluginPackages } from '../plugins/discover';

const TOY_PRUNE = path.join(__dirname, 'fixtures', 'toy-prune');

function pipeline(stages: string) {
  return parsePipelineText(`model: { builder: bev-fusion, config: micro }\ndata: { synthetic: { seed: 0, scenes: 1 } }\nstages:\n${stages}`, 'p.yaml');
}
const oneStage = (...uses: string[]) => pipeline(`  - { name: a, steps: 0, plugins: [${uses.map((u) => `{ use: ${JSON.stringify(u)} }`).join(', ')}] }\n`);

describe('plugin packages of a pipeline', () => {
  const lookup: PluginLookup = { roots: [__dirname], devDirs: [TOY_PRUNE] };

  it('shares one instance between stages that list a package with the same options', () => {
    const p = pipeline(`  - { name: a, steps: 0, plugins: [{ use: toy-prune, options: { sparsity: 0.5 } }] }\n  - { name: b, steps: 1, plugins: [{ use: toy-prune, options: { sparsity: 0.5 } }] }\n  - { name: c, steps: 1 }\n`);
    const r = instantiatePlugins(p, lookup);
    expect(r.driver.registered.map((x) => x.name)).toEqual(['magnitude-pruning']);
    expect(r.stagePlugins).toEqual([['magnitude-pruning'], ['magnitude-pruning'], []]);
    expect(r.driver.registered[0].rawOptions).toEqual({ sparsity: 0.5 });
    expect(r.packages.get('toy-prune')).toMatchObject({ dev: true, dir: TOY_PRUNE, pluginApi: '^1.0.0', compatible: true });
  });

  it('gives each differently configured use its own instance, named after its first stage', () => {
    const p = pipeline(`  - { name: a, steps: 0, plugins: [{ use: toy-prune, options: { sparsity: 0.5 } }] }\n  - { name: b, steps: 1, plugins: [{ use: toy-prune, options: { sparsity: 0.7 } }] }\n`);
    const r = instantiatePlugins(p, lookup);
    expect(r.driver.registered.map((x) => [x.name, x.rawOptions])).toEqual([
      ['magnitude-pruning@a', { sparsity: 0.5 }],
      ['magnitude-pruning@b', { sparsity: 0.7 }],
    ]);
    expect(r.stagePlugins).toEqual([['magnitude-pruning@a'], ['magnitude-pruning@b']]);
  });

  it('reports a bad option at file:line:col of its real path, through the package options', () => {
    const text = `model: { builder: bev-fusion, config: micro }\ndata: { synthetic: { seed: 0, scenes: 1 } }\nstages:\n  - name: a\n    steps: 1\n    plugins:\n      - use: "@bevzip/plugin-altermoma"\n      - use: "@bevzip/plugin-qdbev"\n        options:\n          quantize:\n            wBits: 99\n`;
    const p = parsePipelineText(text, 'p.yaml');
    let e: { code?: string; message?: string; issues?: { path: PropertyKey[] }[] } = {};
    try {
      instantiatePlugins(p, { roots: [__dirname] }, { file: 'p.yaml', text });
    } catch (err) {
      e = err as typeof e;
    }
    expect(e.code).toBe('E_PLUGIN_OPTIONS');
    expect(e.issues?.map((i) => i.path)).toEqual([['stages', 0, 'plugins', 1, 'options', 'quantize', 'wBits']]);
    expect(e.message).toMatch(/^invalid plugin 'qdbev':\n  p\.yaml:11:20: stages\[0\]\.plugins\[1\]\.options\.quantize\.wBits: /);
  });

  it('finds the shipped plugins from the project without a development folder', () => {
    const r = instantiatePlugins(oneStage('@bevzip/plugin-altermoma'), { roots: [__dirname] });
    expect(r.packages.get('@bevzip/plugin-altermoma')).toMatchObject({ dev: false, compatible: true });
    expect(r.driver.registered.map((p) => p.name)).toEqual(['altermoma']);
  });
});

/**
 * Hostile and mistaken `use` values. Every package written here would create a marker file when
 * its code ran; none may run, and each is refused with a code and a message that says why.
 */
describe('a pipeline runs no code the user did not install as a plugin', () => {
  let root: string;
  let marker: string;
  let lookup: PluginLookup;

  /** A package whose index.js writes the marker file when it is loaded. */
  function markerPackage(dir: string, pkg: Record<string, unknown>) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ version: '1.0.0', main: 'index.js', ...pkg }));
    fs.writeFileSync(path.join(dir, 'index.js'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran ' + __filename);\nexports.register = () => undefined;\n`);
  }

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-use-'));
    marker = path.join(root, 'MARKER');
    const project = path.join(root, 'project');
    const modules = path.join(project, 'node_modules');
    markerPackage(path.join(project, 'evil'), { name: 'evil' });
    fs.writeFileSync(path.join(project, 'evil.js'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran');`);
    markerPackage(path.join(modules, 'left-pad-ish'), { name: 'left-pad-ish', keywords: ['bevzip-plugin'] });
    markerPackage(path.join(modules, '@acme', 'bevzip-plugin-future'), { name: '@acme/bevzip-plugin-future', bevzip: { pluginApi: '^9.0.0' } });
    markerPackage(path.join(modules, '@acme', 'bevzip-plugin-kd'), { name: '@acme/bevzip-plugin-kd', description: 'a KD method', bevzip: { pluginApi: '^1.0.0' } });
    markerPackage(path.join(modules, 'bad-range'), { name: 'bad-range', bevzip: { pluginApi: 'one point oh' } });
    lookup = { roots: [project] };
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const refused = (use: string) => {
    try {
      instantiatePlugins(oneStage(use), lookup);
    } catch (e) {
      return e as { code: string; message: string };
    }
    throw new Error(`'${use}' was accepted`);
  };

  it.each([
    ['./evil.js', 'E_CONFIG', "stages[0].plugins[0].use: './evil.js' is a path, but a pipeline names plugins by npm package name"],
    ['../project/evil', 'E_CONFIG', 'load a plugin in development with --plugin-dev <folder>'],
    ['/tmp/evil.js', 'E_CONFIG', "'/tmp/evil.js' is a path"],
    ['Evil Package', 'E_CONFIG', "'Evil Package' is not an npm package name (name can only contain URL-friendly characters"],
    ['https://example.com/x.tgz', 'E_CONFIG', 'is not an npm package name'],
    ['left-pad-ish', 'E_PLUGIN_PACKAGE', `package 'left-pad-ish' does not declare itself a bevzip plugin (its package.json has no "bevzip": { "pluginApi": "<range>" } field), so none of its code was run`],
    ['@acme/bevzip-plugin-future', 'E_PLUGIN_API_VERSION', "'@acme/bevzip-plugin-future' 1.0.0 declares plugin API ^9.0.0, but this bevzip implements 1.0.0"],
    ['bad-range', 'E_CONFIG', `declares "bevzip.pluginApi": "one point oh", which is not a semver range`],
  ])('refuses %s before running anything', (use, code, phrase) => {
    const e = refused(use);
    expect(e.code).toBe(code);
    expect(e.message).toContain(phrase);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('lists every problem at once, a typo with "did you mean", an unknown name with a quoted install command', () => {
    const p = pipeline(`  - { name: a, steps: 0, plugins: [{ use: ./evil.js }, { use: "@acme/bevzip-plugin-kdd" }, { use: no-such-method }] }\n  - { name: b, steps: 0, plugins: [{ use: no-such-method }, { use: kd }] }\n`);
    expect(() => instantiatePlugins(p, lookup)).toThrow(
      [
        "the pipeline's plugins cannot be loaded:",
        "  stages[0].plugins[0].use: './evil.js' is a path, but a pipeline names plugins by npm package name (such as '@bevzip/plugin-altermoma'); load a plugin in development with --plugin-dev <folder>",
        "  stages[0].plugins[1].use: plugin package '@acme/bevzip-plugin-kdd' is not installed; did you mean '@acme/bevzip-plugin-kd'?",
        "  stages[0].plugins[2].use, stages[1].plugins[0].use: plugin package 'no-such-method' is not installed",
        "  stages[1].plugins[1].use: plugin package 'kd' is not installed; did you mean '@acme/bevzip-plugin-kd'?",
        "  install with: npm install 'no-such-method'",
      ].join('\n'),
    );
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('loads a declared plugin, and only then runs its code', () => {
    expect(() => instantiatePlugins(oneStage('@acme/bevzip-plugin-kd'), lookup)).toThrow(/registered no plugin under the PLUGIN token/);
    expect(fs.readFileSync(marker, 'utf8')).toContain(path.join('@acme', 'bevzip-plugin-kd', 'index.js'));
  });

  it('refuses a --plugin-dev folder that does not declare a plugin', () => {
    expect(() => instantiatePlugins(oneStage('evil'), { ...lookup, devDirs: [path.join(root, 'project', 'evil')] })).toThrow(/--plugin-dev .*evil: package 'evil' does not declare itself a bevzip plugin/);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('lists plugin packages from their package.json alone', () => {
    const infos = listPluginPackages([path.join(root, 'project')], { extra: ['left-pad-ish', 'nope', './evil.js'] });
    const byName = new Map(infos.map((i) => [i.name, i]));
    expect(byName.get('@acme/bevzip-plugin-kd')).toMatchObject({ version: '1.0.0', description: 'a KD method', pluginApi: '^1.0.0', compatible: true, dev: false });
    expect(byName.get('@acme/bevzip-plugin-future')).toMatchObject({ pluginApi: '^9.0.0', compatible: false });
    expect(byName.get('left-pad-ish')).toMatchObject({ error: expect.stringContaining('does not declare itself a bevzip plugin') });
    expect(byName.get('nope')).toMatchObject({ error: "not installed (npm install 'nope')" });
    expect(byName.get('./evil.js')).toMatchObject({ error: expect.stringContaining('is a path') });
    expect(byName.has('bad-range')).toBe(false);
    expect(fs.existsSync(marker)).toBe(false);
  });
});
