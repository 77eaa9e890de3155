import * as fs from 'node:fs';
import * as path from 'node:path';
import { THIRD_PARTY_VERSIONS, bevzipVersions } from './versions';

const root = path.resolve(__dirname, '../../..');
const readJson = (rel: string) => JSON.parse(fs.readFileSync(path.join(root, rel), 'utf8'));

describe('versions a scaffold pins', () => {
  it('are the third-party versions the workspace builds and tests with', () => {
    const workspace = readJson('package.json').devDependencies as Record<string, string>;
    const ir = readJson('packages/ir/package.json').dependencies as Record<string, string>;
    const lock = readJson('package-lock.json').packages as Record<string, { version: string }>;
    for (const [name, version] of Object.entries(THIRD_PARTY_VERSIONS)) {
      const reference = workspace[name] ?? ir[name] ?? lock[`node_modules/${name}`]?.version;
      expect({ name, version }).toEqual({ name, version: reference });
    }
  });

  it('are the current versions of @bevzip/ir and @bevzip/plugin-tester', () => {
    const v = bevzipVersions();
    expect(v.ir).toBe(readJson('packages/ir/package.json').version);
    expect(v.pluginTester).toBe(readJson('packages/plugin-tester/package.json').version);
  });

  it('declare a plugin API range the workspace’s @bevzip/ir satisfies', async () => {
    const semver = await import('semver');
    const { PLUGIN_API_VERSION } = await import('@bevzip/ir');
    expect(semver.satisfies(PLUGIN_API_VERSION, bevzipVersions().pluginApi)).toBe(true);
  });
});
