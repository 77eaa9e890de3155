import type { PluginNames } from '../names';
import { commonPackageFields, json } from './package-fields';
import { THIRD_PARTY_VERSIONS as V, type BevzipVersions } from '../versions';

/** package.json of a plugin inside the bevzip workspace, laid out like the packages beside it. */
export function workspacePackageJson(n: PluginNames, b: BevzipVersions, description: string): string {
  return json({
    ...commonPackageFields(n, b, description),
    exports: {
      '.': { '@bevzip/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' },
      './package.json': './package.json',
    },
    files: ['dist', 'README.md', 'CHANGELOG.md'],
    sideEffects: false,
    scripts: {
      build: 'tsc -p tsconfig.lib.json',
      test: 'jest',
      typecheck: 'tsc -p tsconfig.json',
      lint: 'eslint src',
    },
    dependencies: { '@bevzip/ir': b.ir, '@tensorflow/tfjs': V['@tensorflow/tfjs'], zod: V.zod },
    peerDependencies: { tsyringe: `^${V.tsyringe}` },
    devDependencies: {
      '@bevzip/plugin-tester': b.pluginTester,
      tsyringe: V.tsyringe,
      'reflect-metadata': V['reflect-metadata'],
    },
    // The workspace lint rule keeps packages tagged scope:plugin off model packages (eslint.config.mjs).
    nx: { tags: ['scope:plugin'] },
  });
}

/**
 * Config files of a workspace plugin at `directory` (relative to the workspace root): they extend
 * the workspace's TypeScript base and jest preset, so the package builds and tests like its siblings.
 */
export function workspaceConfigFiles(
  n: PluginNames,
  b: BevzipVersions,
  description: string,
  directory: string,
): Record<string, string> {
  const depth = directory.split('/').filter((s) => s && s !== '.').length;
  const root = '../'.repeat(depth);
  return {
    'package.json': workspacePackageJson(n, b, description),
    'tsconfig.json': json({
      extends: `${root}tsconfig.base.json`,
      compilerOptions: { noEmit: true, customConditions: ['@bevzip/source'] },
      include: ['src/**/*.ts'],
    }),
    'tsconfig.lib.json': json({
      extends: `${root}tsconfig.base.json`,
      compilerOptions: { outDir: 'dist', rootDir: 'src', types: ['node'] },
      include: ['src/**/*.ts'],
      exclude: ['src/**/*.spec.ts'],
    }),
    'jest.config.js': `module.exports = { ...require('${root}jest.preset.js'), displayName: require('./package.json').name };\n`,
  };
}
