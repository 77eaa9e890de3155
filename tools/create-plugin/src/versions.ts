import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Third-party versions a scaffolded package pins: those the bevzip workspace builds and tests with,
 * so a new plugin starts from a known-good set (and installs from a warm npm cache). A spec checks
 * them against the workspace's own package.json files.
 */
export const THIRD_PARTY_VERSIONS = {
  '@tensorflow/tfjs': '4.22.0',
  zod: '4.6.7',
  tsyringe: '4.10.0',
  'reflect-metadata': '0.2.2',
  typescript: '5.9.3',
  jest: '30.5.2',
  'jest-environment-node': '30.5.2',
  '@swc/core': '1.16.22',
  '@swc/jest': '0.2.39',
  '@types/jest': '30.0.0',
  '@types/node': '20.19.43',
} as const;

/** Versions of the bevzip packages a plugin builds on. */
export interface BevzipVersions {
  ir: string;
  pluginTester: string;
  /** The plugin API range the scaffolded plugin declares (`apiVersion`). */
  pluginApi: string;
}

/** The plugin API this release of the scaffold writes plugins against. */
export const PLUGIN_API_RANGE = '^1.0.0';

/**
 * The bevzip versions this scaffold was released with. They sit in this package's own
 * package.json (as devDependencies), where `nx release` bumps them along with the packages.
 */
export function bevzipVersions(packageJson = path.join(__dirname, '..', 'package.json')): BevzipVersions {
  const pkg = JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { devDependencies?: Record<string, string> };
  const dev = pkg.devDependencies ?? {};
  const pick = (name: string) => {
    const v = dev[name];
    if (!v) throw new Error(`${packageJson} lists no devDependency ${name}; it pins the bevzip versions a scaffold depends on`);
    return v.replace(/^[\^~]/, '');
  };
  return { ir: pick('@bevzip/ir'), pluginTester: pick('@bevzip/plugin-tester'), pluginApi: PLUGIN_API_RANGE };
}
