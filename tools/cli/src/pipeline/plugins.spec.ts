import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { instantiatePlugins, type PluginLookup } from './plugins';
import { parsePipelineText } from './load-file';
import { formatPluginList, listPluginPackages } from '../plugins/discover';

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

describe('named plugins of a package (`plugin:` beside `use`)', () => {
  const lookup: PluginLookup = { roots: [__dirname], devDirs: [TOY_PRUNE] };
  const ALTERMOMA = '@bevzip/plugin-altermoma';

  it('instantiates the named plugin, and without the field the package register as before', () => {
    const p = pipeline(`  - { name: a, steps: 0, plugins: [{ use: "${ALTERMOMA}", plugin: snip, options: { sparsity: 0.8 } }] }\n  - { name: b, steps: 1, plugins: [{ use: "${ALTERMOMA}" }] }\n`);
    const r = instantiatePlugins(p, lookup);
    expect(r.driver.registered.map((x) => [x.name, x.rawOptions])).toEqual([
      ['prune-snip', { sparsity: 0.8 }],
      ['altermoma', {}],
    ]);
    expect(r.stagePlugins).toEqual([['prune-snip'], ['altermoma']]);
  });

  it('runs two named plugins of one package in one stage, each one instance however many stages list it', () => {
    const uses = `[{ use: "${ALTERMOMA}", options: { sparsity: 0.8 } }, { use: "${ALTERMOMA}", plugin: prune-kd, options: { gradientShare: 0.5 } }]`;
    const p = pipeline(`  - { name: a, steps: 2, plugins: ${uses} }\n  - { name: b, steps: 2, plugins: [{ use: "${ALTERMOMA}", plugin: prune-kd, options: { gradientShare: 0.5 } }] }\n`);
    const r = instantiatePlugins(p, lookup);
    expect(r.driver.registered.map((x) => x.name)).toEqual(['altermoma', 'prune-kd']);
    expect(r.stagePlugins).toEqual([['altermoma', 'prune-kd'], ['prune-kd']]);
    expect(r.driver.start().map((x) => x.name)).toEqual(['altermoma', 'prune-kd']);
  });

  it('refuses an unknown name at file:line:col of the field, with the names offered and a guess, and a name for a package without named plugins', () => {
    const text = [
      'model: { builder: bev-fusion, config: micro }',
      'data: { synthetic: { seed: 0, scenes: 1 } }',
      'stages:',
      '  - name: a',
      '    steps: 1',
      '    plugins:',
      `      - use: "${ALTERMOMA}"`,
      '        plugin: prune-snip',
      `      - { use: "${ALTERMOMA}", plugin: wanda }`,
      '      - use: toy-prune',
      '        plugin: magnitude',
      '',
    ].join('\n');
    let e: { code?: string; message?: string } = {};
    try {
      instantiatePlugins(parsePipelineText(text, 'p.yaml'), lookup, { file: 'p.yaml', text });
    } catch (err) {
      e = err as typeof e;
    }
    const offers = 'altermoma, magnitude, snip, synflow, imp, prune-kd';
    expect(e.code).toBe('E_CONFIG');
    expect(e.message).toBe(
      [
        "the pipeline's plugins cannot be loaded:",
        `  p.yaml:8:17: stages[0].plugins[0].plugin: package '${ALTERMOMA}' has no plugin 'prune-snip'; did you mean 'snip'? It offers: ${offers}`,
        `  p.yaml:9:52: stages[0].plugins[1].plugin: package '${ALTERMOMA}' has no plugin 'wanda'; it offers: ${offers}`,
        `  p.yaml:11:17: stages[0].plugins[2].plugin: package 'toy-prune' offers no named plugins (its package.json has no "bevzip": { "plugins": … }), so there is no 'magnitude' to pick; remove 'plugin' to use the package's register()`,
      ].join('\n'),
    );
  });

  it('lists the named plugins of a package from its package.json', () => {
    const infos = listPluginPackages([__dirname], { extra: [ALTERMOMA] });
    expect(infos.find((i) => i.name === ALTERMOMA)).toMatchObject({ plugins: { altermoma: expect.any(String), snip: expect.any(String), 'prune-kd': expect.any(String) } });
    const text = formatPluginList(infos);
    expect(text).toMatch(/^ {4}plugins \(a pipeline entry picks one with "plugin: <name>"; without it, the package's register\(\) runs\):\n {6}altermoma {2}AlterMOMA/m);
    expect(text).toMatch(/^ {6}prune-kd {3}response distillation/m);
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

  it('refuses a named plugin its package.json declares but its entry does not export, and a malformed bevzip.plugins before running it', () => {
    const modules = path.join(root, 'project', 'node_modules');
    markerPackage(path.join(modules, 'named'), { name: 'named', bevzip: { pluginApi: '^1.0.0', plugins: { one: 'the first' } } });
    markerPackage(path.join(modules, 'bad-named'), { name: 'bad-named', bevzip: { pluginApi: '^1.0.0', plugins: ['one'] } });
    const named = pipeline(`  - { name: a, steps: 0, plugins: [{ use: named, plugin: one }] }\n`);
    expect(() => instantiatePlugins(named, lookup)).toThrow("stages[0].plugins[0]: package 'named' declares plugin 'one' in its package.json (bevzip.plugins) but its entry exports no plugins[\"one\"] register function");
    // An entry that does export `plugins`, but not the declared 'toString' (which every object inherits).
    markerPackage(path.join(modules, 'named-proto'), { name: 'named-proto', bevzip: { pluginApi: '^1.0.0', plugins: { toString: 'not a register of the entry' } } });
    fs.appendFileSync(path.join(modules, 'named-proto', 'index.js'), 'exports.plugins = {};\n');
    const inherited = pipeline(`  - { name: a, steps: 0, plugins: [{ use: named-proto, plugin: toString }] }\n`);
    expect(() => instantiatePlugins(inherited, lookup)).toThrow("package 'named-proto' declares plugin 'toString' in its package.json (bevzip.plugins) but its entry exports no plugins[\"toString\"] register function");
    fs.rmSync(marker);
    const e = refused('bad-named');
    expect([e.code, e.message]).toEqual(['E_CONFIG', `stages[0].plugins[0].use: package 'bad-named' declares "bevzip.plugins": ["one"], but expected an object of plugin name → one-line description`]);
    expect(fs.existsSync(marker)).toBe(false);
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
