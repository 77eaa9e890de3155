import type { PluginNames } from '../names';

/** A file's text as pretty JSON with a trailing newline. */
export const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';

/** package.json fields every scaffolded plugin has, whichever layout it lives in. */
export function commonPackageFields(n: PluginNames, description: string) {
  return {
    name: n.packageName,
    version: '0.1.0',
    description,
    license: 'Apache-2.0',
    keywords: ['bevzip-plugin'],
    main: './dist/index.js',
    types: './dist/index.d.ts',
  };
}
