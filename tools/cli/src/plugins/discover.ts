import * as fs from 'node:fs';
import * as path from 'node:path';
import 'reflect-metadata';
import { container as rootContainer } from 'tsyringe';
import * as semver from 'semver';
import { PLUGIN, PLUGIN_API_VERSION, type Plugin } from '@bevzip/ir';

/** What `bevzip plugins` knows of one package. */
export interface PluginPackageInfo {
  packageName: string;
  packageVersion?: string;
  /** Plugins the package registered (usually one). */
  plugins: { name: string; version: string; apiVersion: string; description: string; compatible: boolean }[];
  /** Why the package could not be loaded, when it could not. */
  error?: string;
}

/** Package names that look like bevzip plugins in the node_modules folders above `from`. */
export function findInstalledPluginPackages(from: string): string[] {
  const found = new Set<string>();
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const modules = path.join(dir, 'node_modules');
    const scoped = path.join(modules, '@bevzip');
    if (fs.existsSync(scoped)) for (const name of fs.readdirSync(scoped)) if (name.startsWith('plugin-') && name !== 'plugin-tester') found.add(`@bevzip/${name}`);
    if (fs.existsSync(modules)) {
      for (const entry of fs.readdirSync(modules)) {
        if (entry.startsWith('.') || entry.startsWith('@')) continue;
        const pkgFile = path.join(modules, entry, 'package.json');
        if (!fs.existsSync(pkgFile)) continue;
        try {
          const keywords: unknown = JSON.parse(fs.readFileSync(pkgFile, 'utf8')).keywords;
          if (Array.isArray(keywords) && keywords.includes('bevzip-plugin')) found.add(entry);
        } catch {
          // An unreadable package.json of some unrelated package is not our concern.
        }
      }
    }
    if (path.dirname(dir) === dir) break;
  }
  return [...found].sort();
}

/** The install command to suggest for a missing plugin package. */
export function installHint(packageName: string): string {
  return `npm install ${packageName}`;
}

/**
 * Loads a plugin package from `from` and asks it to register into a throw-away child container, so
 * its plugins can be listed without running anything.
 */
export function inspectPluginPackage(packageName: string, from: string): PluginPackageInfo {
  let entry: string;
  try {
    entry = require.resolve(packageName, { paths: [from] });
  } catch {
    return { packageName, plugins: [], error: `not installed (${installHint(packageName)})` };
  }
  let packageVersion: string | undefined;
  try {
    packageVersion = JSON.parse(fs.readFileSync(require.resolve(`${packageName}/package.json`, { paths: [from] }), 'utf8')).version;
  } catch {
    packageVersion = undefined;
  }
  try {
    const mod = require(entry) as { register?: (c: unknown) => void };
    if (typeof mod.register !== 'function') return { packageName, packageVersion, plugins: [], error: 'exports no register(container) function' };
    const child = rootContainer.createChildContainer();
    mod.register(child);
    const plugins = child.isRegistered(PLUGIN) ? (child.resolveAll(PLUGIN) as Plugin[]) : [];
    if (plugins.length === 0) return { packageName, packageVersion, plugins: [], error: 'register(container) registered no plugin under the PLUGIN token' };
    return {
      packageName,
      packageVersion,
      plugins: plugins.map((p) => ({
        name: p.name,
        version: p.version,
        apiVersion: p.apiVersion,
        description: p.description,
        compatible: semver.validRange(p.apiVersion) !== null && semver.satisfies(PLUGIN_API_VERSION, p.apiVersion),
      })),
    };
  } catch (e) {
    return { packageName, packageVersion, plugins: [], error: `failed to load: ${(e as Error).message.split('\n')[0]}` };
  }
}
