import * as path from 'node:path';
import { formatPluginList, listPluginPackages } from './discover';
import { didYouMean, packageNameProblem } from './manifest';

const TOY_PRUNE = path.join(__dirname, '..', 'pipeline', 'fixtures', 'toy-prune');

describe('bevzip plugins listing', () => {
  it('lists the shipped plugins of the workspace and a development folder, marked as such', () => {
    const infos = listPluginPackages([__dirname], { devDirs: [TOY_PRUNE] });
    const names = infos.map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['@bevzip/plugin-altermoma', '@bevzip/plugin-qdbev', 'toy-prune']));
    // plugin-tester is a test harness for plugins, not one: it declares no plugin API.
    expect(names).not.toContain('@bevzip/plugin-tester');
    const text = formatPluginList(infos);
    expect(text).toMatch(/^bevzip plugin API 1\.0\.0$/m);
    expect(text).toMatch(/^✓ @bevzip\/plugin-altermoma@0\.1\.0 {2}api \^1\.0\.0$/m);
    expect(text).toContain(`✓ toy-prune@0.0.1  api ^1.0.0  (development folder ${TOY_PRUNE})`);
  });

  it('marks an incompatible package and a broken name with the reason', () => {
    const text = formatPluginList([
      { name: 'old', version: '2.0.0', description: '', dir: '/x', pluginApi: '^0.3.0', compatible: false, dev: false },
      { name: 'gone', error: "not installed (npm install 'gone')" },
    ]);
    expect(text).toContain('✗ old@2.0.0  api ^0.3.0 — needs plugin API ^0.3.0, this bevzip has 1.0.0');
    expect(text).toContain("✗ gone: not installed (npm install 'gone')");
  });
});

describe('plugin package names', () => {
  it.each([
    ['@bevzip/plugin-altermoma', undefined],
    ['my-method', undefined],
    ['./local', 'is a path'],
    ['C:\\plugins\\x', 'is a path'],
    ['JSONStream', undefined],
    ['_private', 'is not an npm package name'],
    ['a b', 'is not an npm package name'],
    ['git+https://host/repo.git', 'is not an npm package name'],
  ])('%s', (name, problem) => {
    if (problem === undefined) expect(packageNameProblem(name)).toBeUndefined();
    else expect(packageNameProblem(name)).toContain(problem);
  });

  it('suggests a close installed name, by suffix or edit distance, and nothing far off', () => {
    const installed = ['@bevzip/plugin-altermoma', '@bevzip/plugin-qdbev'];
    expect(didYouMean('altermoma', installed)).toBe('@bevzip/plugin-altermoma');
    expect(didYouMean('@bevzip/plugin-altermona', installed)).toBe('@bevzip/plugin-altermoma');
    expect(didYouMean('@bevzip/plugin-qd-bev', installed)).toBe('@bevzip/plugin-qdbev');
    expect(didYouMean('@bevzip/plugin-unidistill', installed)).toBeUndefined();
    expect(didYouMean('x', [])).toBeUndefined();
    // Named plugins of a package: the runtime name of a plugin ends in its short name.
    const named = ['altermoma', 'magnitude', 'snip', 'synflow', 'imp', 'prune-kd'];
    expect(didYouMean('prune-snip', named)).toBe('snip');
    expect(didYouMean('synflw', named)).toBe('synflow');
    expect(didYouMean('wanda', named)).toBeUndefined();
  });
});
