import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreatePluginError } from './names';
import { scaffoldFiles, writeScaffold } from './scaffold';

const versions = { ir: '1.2.3', pluginTester: '1.2.4', pluginApi: '^1.0.0' };

describe('scaffoldFiles', () => {
  it('makes a standalone package that depends on bevzip by version range', () => {
    const { files, directory } = scaffoldFiles({ name: 'my-method', versions });
    expect(directory).toBe('my-method');
    expect(Object.keys(files).sort()).toEqual(
      ['.gitignore', '.npmrc', 'README.md', 'jest.config.js', 'jest.environment.js', 'jest.setup.js', 'package.json', 'src/index.spec.ts', 'src/index.ts', 'tsconfig.build.json', 'tsconfig.json'].sort(),
    );
    const pkg = JSON.parse(files['package.json']);
    expect(pkg).toMatchObject({ name: 'my-method', keywords: ['bevzip-plugin'], bevzip: { pluginApi: '^1.0.0' }, main: './dist/index.js', scripts: { build: 'tsc -p tsconfig.build.json', test: 'jest' } });
    expect(pkg.dependencies['@bevzip/ir']).toBe('^1.2.3');
    expect(pkg.devDependencies['@bevzip/plugin-tester']).toBe('^1.2.4');
    expect(JSON.parse(files['tsconfig.json']).compilerOptions).toMatchObject({ strict: true, module: 'node16' });
  });

  it('writes the plugin with definePlugin, register and the declared API range', () => {
    const { files } = scaffoldFiles({ name: '@acme/fast-kd', description: "Kim's fast KD", versions: { ...versions, pluginApi: '^2.0.0' } });
    const src = files['src/index.ts'];
    expect(src).toContain("export const fastKd = definePlugin({\n  name: '@acme/fast-kd',");
    expect(src).toContain("apiVersion: '^2.0.0'");
    expect(src).toContain("description: 'Kim\\'s fast KD'");
    expect(src).toContain('export function register(container: DependencyContainer, options?: FastKdOptions): void');
    expect(files['src/index.spec.ts']).toContain("import { fastKd, register } from './index';");
    expect(files['README.md']).toMatch(/^# @acme\/fast-kd\n\nKim's fast KD\n/);
  });

  it('lays a workspace package out like its siblings, relative to its depth', () => {
    const { files, directory } = scaffoldFiles({ name: 'uni-distill', flavor: 'workspace', directory: 'packages/extra/plugin-ud/', versions });
    expect(directory).toBe('packages/extra/plugin-ud');
    expect(JSON.parse(files['tsconfig.json']).extends).toBe('../../../tsconfig.base.json');
    expect(files['jest.config.js']).toContain("require('../../../jest.preset.js')");
    const pkg = JSON.parse(files['package.json']);
    expect(pkg.name).toBe('@bevzip/plugin-uni-distill');
    expect(pkg.dependencies['@bevzip/ir']).toBe('1.2.3');
    expect(pkg.exports['.']['@bevzip/source']).toBe('./src/index.ts');
  });

  it('refuses a workspace directory outside the workspace', () => {
    expect(() => scaffoldFiles({ name: 'x', flavor: 'workspace', directory: '../elsewhere', versions })).toThrow(/directory '..\/elsewhere' must be a folder inside the workspace/);
  });
});

describe('writeScaffold', () => {
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'create-plugin-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('writes every file, creating folders', () => {
    const target = path.join(tmp, 'pkg');
    const written = writeScaffold(target, { 'a.txt': 'A', 'src/b.ts': 'B' });
    expect(written).toEqual([path.join(target, 'a.txt'), path.join(target, 'src/b.ts')]);
    expect(fs.readFileSync(path.join(target, 'src/b.ts'), 'utf8')).toBe('B');
  });

  it('refuses a folder that is not empty unless forced', () => {
    fs.writeFileSync(path.join(tmp, 'keep.txt'), 'mine');
    let error: unknown;
    try {
      writeScaffold(tmp, { 'a.txt': 'A' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CreatePluginError);
    expect((error as CreatePluginError).code).toBe('E_TARGET_NOT_EMPTY');
    expect(fs.existsSync(path.join(tmp, 'a.txt'))).toBe(false);
    writeScaffold(tmp, { 'a.txt': 'A' }, { force: true });
    expect(fs.readFileSync(path.join(tmp, 'keep.txt'), 'utf8')).toBe('mine');
  });
});
