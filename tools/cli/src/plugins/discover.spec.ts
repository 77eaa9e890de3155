import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findInstalledPluginPackages, inspectPluginPackage } from './discover';

/** Writes a fake plugin package; its register() uses the PLUGIN token's global symbol directly. */
function fakePackage(root: string, name: string, body: string, keywords: string[] = []) {
  const dir = path.join(root, 'node_modules', ...name.split('/'));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.2.3', main: 'index.js', keywords }));
  fs.writeFileSync(path.join(dir, 'index.js'), body);
}

const registering = (apiVersion: string) => `exports.register = (c) => c.register(Symbol.for('@bevzip/ir:plugin'), { useValue: {
  name: 'fake', version: '0.0.1', apiVersion: '${apiVersion}', description: 'a fake plugin' } });`;

describe('plugin discovery', () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-plugins-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('finds @bevzip/plugin-* and keyword-tagged packages and reads their plugins', () => {
    fakePackage(root, '@bevzip/plugin-good', registering('^1.0.0'));
    fakePackage(root, 'third-party-method', registering('^1.0.0'), ['bevzip-plugin']);
    fakePackage(root, 'unrelated', 'exports.x = 1');
    expect(findInstalledPluginPackages(root)).toEqual(expect.arrayContaining(['@bevzip/plugin-good', 'third-party-method']));
    expect(findInstalledPluginPackages(root)).not.toContain('unrelated');
    const info = inspectPluginPackage('@bevzip/plugin-good', root);
    expect(info).toMatchObject({ packageVersion: '1.2.3', plugins: [{ name: 'fake', compatible: true }] });
  });

  it('marks an incompatible API range and lists broken packages with the reason', () => {
    fakePackage(root, '@bevzip/plugin-old', registering('^0.3.0'));
    fakePackage(root, '@bevzip/plugin-broken', 'throw new Error("boom at load")');
    fakePackage(root, '@bevzip/plugin-empty', 'exports.nothing = true');
    expect(inspectPluginPackage('@bevzip/plugin-old', root).plugins[0].compatible).toBe(false);
    expect(inspectPluginPackage('@bevzip/plugin-broken', root).error).toMatch(/failed to load: boom at load/);
    expect(inspectPluginPackage('@bevzip/plugin-empty', root).error).toMatch(/no register\(container\)/);
    expect(inspectPluginPackage('@bevzip/plugin-missing', root).error).toMatch(/not installed \(npm install @bevzip\/plugin-missing\)/);
  });
});
