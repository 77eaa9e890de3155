import * as fs from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';
import validatePackageName from 'validate-npm-package-name';
import { closest, distance } from 'fastest-levenshtein';
import { BevzipError, ERROR_CODES, PLUGIN_API_VERSION } from '@bevzip/ir';

/**
 * What a plugin package declares in its package.json, read without running any of its code:
 *
 *     "bevzip": { "pluginApi": "^1.0.0" }
 *
 * A package without this field is not a bevzip plugin, whatever its name or keywords say. A package
 * that ships several plugins also lists them, each with a one-line description, under the names a
 * pipeline entry picks with `plugin:` and its entry exports as `plugins`:
 *
 *     "bevzip": { "pluginApi": "^1.0.0", "plugins": { "altermoma": "…", "prune-kd": "…" } }
 */
export const PLUGIN_FIELD = 'bevzip';

/** A plugin package as its package.json describes it. */
export interface PluginManifest {
  name: string;
  version: string;
  description: string;
  /** The folder holding its package.json. */
  dir: string;
  /** The plugin API range it declares. */
  pluginApi: string;
  /** Whether this bevzip's plugin API satisfies {@link pluginApi}. */
  compatible: boolean;
  /** The named plugins it offers (`bevzip.plugins`: name → description); absent when it offers only `register`. */
  plugins?: Record<string, string>;
  /** Loaded from a development folder given with `--plugin-dev`, not from node_modules. */
  dev: boolean;
}

/** Why a package could not be read as a plugin; `notPlugin` when it is a package that does not declare itself one. */
export interface ManifestProblem {
  name: string;
  dir: string;
  problem: string;
  notPlugin?: boolean;
}

/** Why `use` is not an npm package name, or undefined when it is one. */
export function packageNameProblem(use: string): string | undefined {
  if (use.startsWith('.') || path.isAbsolute(use) || use.includes('\\')) {
    return `'${use}' is a path, but a pipeline names plugins by npm package name (such as '@bevzip/plugin-altermoma'); load a plugin in development with --plugin-dev <folder>`;
  }
  const checked = validatePackageName(use);
  if (checked.validForNewPackages || checked.validForOldPackages) return undefined;
  const why = [...(checked.errors ?? []), ...(checked.warnings ?? [])].join('; ');
  return `'${use}' is not an npm package name (${why})`;
}

/** Reads and checks a package's package.json; never loads the package's code. */
export function readManifest(dir: string, options: { dev?: boolean; expectName?: string } = {}): PluginManifest | ManifestProblem {
  const file = path.join(dir, 'package.json');
  const fallbackName = options.expectName ?? path.basename(dir);
  let pkg: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    pkg = parsed as Record<string, unknown>;
  } catch (e) {
    return { name: fallbackName, dir, problem: `cannot read ${file}: ${(e as Error).message.split('\n')[0]}` };
  }
  const name = typeof pkg.name === 'string' ? pkg.name : fallbackName;
  if (options.expectName !== undefined && name !== options.expectName) {
    return { name: fallbackName, dir, problem: `${file} names the package '${String(pkg.name)}', expected '${options.expectName}'` };
  }
  const field = pkg[PLUGIN_FIELD] as { pluginApi?: unknown; plugins?: unknown } | undefined;
  if (typeof field !== 'object' || field === null || typeof field.pluginApi !== 'string') {
    return { name, dir, notPlugin: true, problem: `package '${name}' does not declare itself a bevzip plugin (its package.json has no "${PLUGIN_FIELD}": { "pluginApi": "<range>" } field), so none of its code was run` };
  }
  if (semver.validRange(field.pluginApi) === null) {
    return { name, dir, problem: `package '${name}' declares "${PLUGIN_FIELD}.pluginApi": "${field.pluginApi}", which is not a semver range` };
  }
  const named = field.plugins;
  const namedOk = named === undefined || (typeof named === 'object' && named !== null && !Array.isArray(named) && Object.keys(named).length > 0 && Object.entries(named).every(([k, v]) => k.length > 0 && typeof v === 'string'));
  if (!namedOk) {
    return { name, dir, problem: `package '${name}' declares "${PLUGIN_FIELD}.plugins": ${JSON.stringify(named)}, but expected an object of plugin name → one-line description` };
  }
  return {
    name,
    version: typeof pkg.version === 'string' ? pkg.version : '?',
    description: typeof pkg.description === 'string' ? pkg.description : '',
    dir,
    pluginApi: field.pluginApi,
    compatible: semver.satisfies(PLUGIN_API_VERSION, field.pluginApi),
    dev: options.dev ?? false,
    ...(named ? { plugins: { ...(named as Record<string, string>) } } : {}),
  };
}

export const isProblem = (m: PluginManifest | ManifestProblem): m is ManifestProblem => 'problem' in m;

/** The node_modules folders Node would search from `root` upwards. */
function nodeModulesAbove(root: string): string[] {
  const dirs: string[] = [];
  for (let dir = path.resolve(root); ; dir = path.dirname(dir)) {
    if (path.basename(dir) !== 'node_modules') dirs.push(path.join(dir, 'node_modules'));
    if (path.dirname(dir) === dir) return dirs;
  }
}

/** The folder of package `name` as Node would find it from the first root that has it, by looking at the disk only. */
export function locatePackage(name: string, roots: readonly string[]): string | undefined {
  for (const root of roots) {
    for (const modules of nodeModulesAbove(root)) {
      const dir = path.join(modules, ...name.split('/'));
      if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    }
  }
  return undefined;
}

/** Every package folder in the node_modules folders above the roots (first found wins per name). */
function installedPackageDirs(roots: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  const list = (dir: string) => {
    try {
      return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => (e.isDirectory() || e.isSymbolicLink()) && !e.name.startsWith('.'));
    } catch {
      return [];
    }
  };
  for (const root of roots) {
    for (const modules of nodeModulesAbove(root)) {
      for (const entry of list(modules)) {
        const names = entry.name.startsWith('@') ? list(path.join(modules, entry.name)).map((e) => `${entry.name}/${e.name}`) : [entry.name];
        for (const name of names) {
          const dir = path.join(modules, ...name.split('/'));
          if (!found.has(name) && fs.existsSync(path.join(dir, 'package.json'))) found.set(name, dir);
        }
      }
    }
  }
  return found;
}

/** The installed packages that declare themselves bevzip plugins, sorted by name; nothing is executed. */
export function findPluginManifests(roots: readonly string[]): PluginManifest[] {
  const out: PluginManifest[] = [];
  for (const [name, dir] of installedPackageDirs(roots)) {
    const m = readManifest(dir, { expectName: name });
    if (!isProblem(m)) out.push(m);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Reads the `--plugin-dev` folders; each must hold a package.json that declares a bevzip plugin. */
export function readDevManifests(dirs: readonly string[]): Map<string, PluginManifest> {
  const out = new Map<string, PluginManifest>();
  for (const dir of dirs) {
    const m = readManifest(path.resolve(dir), { dev: true });
    if (isProblem(m)) throw new BevzipError(ERROR_CODES.PLUGIN_PACKAGE, `--plugin-dev ${dir}: ${m.problem}`);
    out.set(m.name, m);
  }
  return out;
}

/**
 * The name among `installed` (plugin packages, or a package's named plugins) most likely meant by
 * one that is not there: one whose name ends in it (`altermoma` → `@bevzip/plugin-altermoma`) or
 * that it ends in (`prune-snip` → `snip`), else the closest by edit distance if it is close (at
 * most a quarter of the name's length, and at least 2).
 */
export function didYouMean(name: string, installed: readonly string[]): string | undefined {
  const suffix = installed.filter((n) => n.endsWith(`/${name}`) || n.endsWith(`-${name}`) || name.endsWith(`-${n}`));
  if (suffix.length === 1) return suffix[0];
  if (installed.length === 0) return undefined;
  const best = closest(name, [...installed]);
  return distance(name, best) <= Math.max(2, Math.floor(name.length / 4)) ? best : undefined;
}

/** The install command to suggest for missing plugin packages: names validated, each quoted. */
export function installHint(packageNames: readonly string[]): string {
  return `npm install ${packageNames.map((n) => `'${n}'`).join(' ')}`;
}
