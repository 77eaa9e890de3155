import type { PluginNames } from '../names';
import { commonPackageFields, json } from './package-fields';
import { THIRD_PARTY_VERSIONS as V, type BevzipVersions } from '../versions';

/** package.json of a plugin living in its own repository: bevzip packages by version range. */
export function standalonePackageJson(n: PluginNames, b: BevzipVersions, description: string): string {
  return json({
    ...commonPackageFields(n, b, description),
    files: ['dist', 'README.md'],
    sideEffects: false,
    scripts: {
      build: 'tsc -p tsconfig.build.json',
      test: 'jest',
      typecheck: 'tsc -p tsconfig.json --noEmit',
      prepack: 'npm run build',
    },
    dependencies: { '@bevzip/ir': `^${b.ir}`, '@tensorflow/tfjs': V['@tensorflow/tfjs'], zod: V.zod },
    peerDependencies: { tsyringe: `^${V.tsyringe}` },
    devDependencies: {
      '@bevzip/plugin-tester': `^${b.pluginTester}`,
      '@swc/core': V['@swc/core'],
      '@swc/jest': V['@swc/jest'],
      '@types/jest': V['@types/jest'],
      '@types/node': V['@types/node'],
      jest: V.jest,
      'jest-environment-node': V['jest-environment-node'],
      'reflect-metadata': V['reflect-metadata'],
      tsyringe: V.tsyringe,
      typescript: V.typescript,
    },
  });
}

const TSCONFIG = json({
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2022'],
    module: 'node16',
    moduleResolution: 'node16',
    strict: true,
    esModuleInterop: true,
    skipLibCheck: true,
    declaration: true,
    sourceMap: true,
    outDir: 'dist',
    rootDir: 'src',
    types: ['node', 'jest'],
  },
  include: ['src/**/*.ts'],
});

const TSCONFIG_BUILD = json({
  extends: './tsconfig.json',
  compilerOptions: { types: ['node'] },
  exclude: ['src/**/*.spec.ts'],
});

const JEST_CONFIG = `// TypeScript through swc; the environment and setup files are explained in their own headers.
module.exports = {
  testEnvironment: require.resolve('./jest.environment.js'),
  transform: {
    '^.+\\\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  setupFilesAfterEnv: ['<rootDir>/jest.setup.js'],
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  testTimeout: 60000,
};
`;

const JEST_ENVIRONMENT = `// onnxruntime-node (which runs frozen teachers) makes typed arrays in the host realm and checks
// them with instanceof in the test realm; sharing the constructors makes those checks pass.
const NodeEnvironment = require('jest-environment-node').TestEnvironment;

const SHARED = [
  'ArrayBuffer', 'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'Uint8ClampedArray',
];

class PluginTestEnvironment extends NodeEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = PluginTestEnvironment;
`;

const JEST_SETUP = `// Tests run on the backend users get (wasm with bevzip's training kernels, or BEVZIP_BACKEND).
const { initBackend } = require('@bevzip/ir');

beforeAll(async () => {
  await initBackend({ quiet: true });
});
`;

/** Everything but the sources and README, for a package in its own repository. */
export function standaloneConfigFiles(
  n: PluginNames,
  b: BevzipVersions,
  description: string,
): Record<string, string> {
  return {
    'package.json': standalonePackageJson(n, b, description),
    'tsconfig.json': TSCONFIG,
    'tsconfig.build.json': TSCONFIG_BUILD,
    'jest.config.js': JEST_CONFIG,
    'jest.environment.js': JEST_ENVIRONMENT,
    'jest.setup.js': JEST_SETUP,
    // onnxruntime-node's install script would otherwise fetch GPU binaries a plugin never needs.
    '.npmrc': 'onnxruntime-node-install=skip\n',
    '.gitignore': 'node_modules/\ndist/\n*.tgz\n',
  };
}
