import type { PluginNames } from '../names';
import type { BevzipVersions } from '../versions';

/** A file's text as pretty JSON with a trailing newline. */
export const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';

/** package.json fields every scaffolded plugin has, whichever layout it lives in. */
export function commonPackageFields(n: PluginNames, b: BevzipVersions, description: string) {
  return {
    name: n.packageName,
    version: '0.1.0',
    description,
    license: 'Apache-2.0',
    keywords: ['bevzip-plugin'],
    // What makes bevzip load the package at all; read before any of its code runs.
    bevzip: { pluginApi: b.pluginApi },
    main: './dist/index.js',
    types: './dist/index.d.ts',
  };
}
