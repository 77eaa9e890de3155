import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/**
 * Which packages may import which, by the Nx tags in each package.json: the runtime (ir) and the
 * data packages stand alone, the model builds on both, plugins see only the runtime and the data
 * (a user installs a plugin without any model package), and tools may use everything.
 */
const LAYERS = {
  'scope:runtime': ['scope:runtime'],
  'scope:data': ['scope:data'],
  'scope:model': ['scope:model', 'scope:data', 'scope:runtime'],
  'scope:plugin': ['scope:runtime', 'scope:data'],
  'scope:testing': ['scope:testing', 'scope:runtime'],
  'scope:tool': ['*'],
};

/** A plugin's tests may also use a model and the plugin test harness (dev dependencies only). */
const TEST_EXTRAS = { 'scope:plugin': ['scope:model', 'scope:testing'] };

function boundaries(extras = {}) {
  return [
    'error',
    {
      allow: [],
      // Node loads packages on demand with import() (the CLI's plugins, a spec's version check); there
      // are no bundler chunks for a static import to defeat, so that check is off for our packages.
      checkDynamicDependenciesExceptions: ['@bevzip/**'],
      depConstraints: Object.entries(LAYERS).map(([sourceTag, tags]) => ({
        sourceTag,
        onlyDependOnLibsWithTags: [...tags, ...(extras[sourceTag] ?? [])],
      })),
    },
  ];
}

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.js', '**/*.mjs', 'bevzip-out/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      // Optional peer dependencies (tfjs-node, tfjs-node-gpu) and package.json reads need require().
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: { '@nx/enforce-module-boundaries': boundaries() },
  },
  {
    files: ['**/*.spec.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries(TEST_EXTRAS) },
  },
);
