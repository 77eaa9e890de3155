import { PLUGIN_API_VERSION } from '@bevzip/ir';
import { findPluginManifests, installHint, isProblem, locatePackage, packageNameProblem, readDevManifests, readManifest, type PluginManifest } from './manifest';

/** What `bevzip plugins` knows of one package, all from its package.json. */
export type PluginPackageInfo = Pick<PluginManifest, 'name' | 'version' | 'description' | 'pluginApi' | 'compatible' | 'dev' | 'dir' | 'plugins'> | { name: string; error: string };

/**
 * The plugin packages installed in the node_modules folders above `roots`, the development folders
 * given, and any extra names asked for (reported with the reason when they are not plugins). Reads
 * package.json files only: listing runs no package's code.
 */
export function listPluginPackages(roots: readonly string[], options: { devDirs?: readonly string[]; extra?: readonly string[] } = {}): PluginPackageInfo[] {
  const dev = readDevManifests(options.devDirs ?? []);
  const byName = new Map<string, PluginPackageInfo>(findPluginManifests(roots).map((m) => [m.name, m]));
  for (const m of dev.values()) byName.set(m.name, m);
  for (const name of options.extra ?? []) {
    if (byName.has(name)) continue;
    const badName = packageNameProblem(name);
    const dir = badName ? undefined : locatePackage(name, roots);
    if (badName) byName.set(name, { name, error: badName });
    else if (!dir) byName.set(name, { name, error: `not installed (${installHint([name])})` });
    else {
      const m = readManifest(dir, { expectName: name });
      byName.set(name, isProblem(m) ? { name, error: m.problem } : m);
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The human-readable listing of {@link listPluginPackages}. */
export function formatPluginList(infos: readonly PluginPackageInfo[]): string {
  const lines = [`bevzip plugin API ${PLUGIN_API_VERSION}`];
  if (infos.length === 0) lines.push(`no plugin packages installed (install one, e.g. ${installHint(['@bevzip/plugin-altermoma'])})`);
  for (const info of infos) {
    if ('error' in info) {
      lines.push(`✗ ${info.name}: ${info.error}`);
      continue;
    }
    const mark = info.compatible ? '✓' : '✗';
    const note = info.compatible ? '' : ` — needs plugin API ${info.pluginApi}, this bevzip has ${PLUGIN_API_VERSION}`;
    lines.push(`${mark} ${info.name}@${info.version}  api ${info.pluginApi}${info.dev ? `  (development folder ${info.dir})` : ''}${note}`);
    if (info.description) lines.push(`    ${info.description}`);
    const named = Object.entries(info.plugins ?? {});
    if (named.length > 0) {
      lines.push(`    plugins (a pipeline entry picks one with "plugin: <name>"; without it, the package's register() runs):`);
      const width = Math.max(...named.map(([n]) => n.length));
      for (const [n, about] of named) lines.push(`      ${n.padEnd(width)}  ${about}`);
    }
  }
  return lines.join('\n');
}
