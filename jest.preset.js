// Shared jest settings: TypeScript through swc (decorators on for tsyringe), and workspace
// packages resolved to their sources through the "@bevzip/source" export condition.
module.exports = {
  testEnvironment: require.resolve('./jest.environment.js'),
  testEnvironmentOptions: { customExportConditions: ['@bevzip/source', 'node', 'require', 'default'] },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  setupFilesAfterEnv: [require.resolve('./jest.setup.ts')],
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 60000,
};
