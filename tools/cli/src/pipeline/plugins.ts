import 'reflect-metadata';
import { container as rootContainer } from 'tsyringe';
import * as semver from 'semver';
import { BevzipError, ERROR_CODES, PLUGIN, PLUGIN_API_VERSION, type Plugin } from '@bevzip/ir';
import { didYouMean, findPluginManifests, installHint, isProblem, locatePackage, packageNameProblem, readDevManifests, readManifest, type PluginManifest } from '../plugins/manifest';
import { formatPath } from './load-file';
import type { PipelineFile } from './schema';

/** Where plugin packages are looked up. */
export interface PluginLookup {
  /**
   * Folders whose node_modules (and those above them) are searched, first match wins: the project
   * (the working directory), then the CLI's own install.
   */
  roots: readonly string[];
  /** Development folders of plugins (`--plugin-dev`): a pipeline naming their package loads them from there. */
  devDirs?: readonly string[];
}

/** The default lookup: the project at `cwd`, then the folder this CLI is installed in. */
export function pluginLookup(cwd: string, devDirs: readonly string[] = []): PluginLookup {
  return { roots: [cwd, __dirname], devDirs };
}

/** The plugin instances of a pipeline, and which are active in each stage. */
export interface PipelinePlugins {
  plugins: Plugin[];
  /** Per stage, the names of its active plugins (as renamed, see {@link instantiatePlugins}). */
  stagePlugins: string[][];
  /** Package name → its manifest, as read before loading it. */
  packages: Map<string, PluginManifest>;
}

/**
 * Finds every plugin package a pipeline names, before any work and without running any package
 * code: each `use` must be an npm package name, installed, and declare a bevzip plugin API range
 * (its package.json `bevzip` field) that this bevzip satisfies. All problems are reported at once,
 * each at its place in the pipeline file.
 * @throws BevzipError E_CONFIG (not a package name, not installed: with "did you mean" among the
 *   installed plugins, else the install command), E_PLUGIN_PACKAGE (installed but not a plugin),
 *   E_PLUGIN_API_VERSION (declares an API range this bevzip does not implement).
 */
export function resolvePluginPackages(pipeline: PipelineFile, lookup: PluginLookup): Map<string, PluginManifest> {
  const dev = readDevManifests(lookup.devDirs ?? []);
  const found = new Map<string, PluginManifest>();
  const problems: { code: (typeof ERROR_CODES)[keyof typeof ERROR_CODES]; line: string }[] = [];
  const missing = new Map<string, string[]>();
  const seen = new Set<string>();
  pipeline.stages.forEach((stage, i) =>
    stage.plugins.forEach((p, j) => {
      const where = formatPath(['stages', i, 'plugins', j, 'use']);
      if (seen.has(p.use)) {
        if (missing.has(p.use)) missing.get(p.use)!.push(where);
        return;
      }
      seen.add(p.use);
      const badName = packageNameProblem(p.use);
      if (badName) return void problems.push({ code: ERROR_CODES.CONFIG, line: `${where}: ${badName}` });
      const dir = dev.get(p.use)?.dir ?? locatePackage(p.use, lookup.roots);
      if (!dir) return void missing.set(p.use, [where]);
      const manifest = dev.get(p.use) ?? readManifest(dir, { expectName: p.use });
      if (isProblem(manifest)) return void problems.push({ code: manifest.notPlugin ? ERROR_CODES.PLUGIN_PACKAGE : ERROR_CODES.CONFIG, line: `${where}: ${manifest.problem}` });
      if (!manifest.compatible) {
        return void problems.push({
          code: ERROR_CODES.PLUGIN_API_VERSION,
          line: `${where}: '${p.use}' ${manifest.version} declares plugin API ${manifest.pluginApi}, but this bevzip implements ${PLUGIN_API_VERSION}; install a version of it made for this bevzip`,
        });
      }
      found.set(p.use, manifest);
    }),
  );
  if (missing.size > 0) {
    const installed = findPluginManifests(lookup.roots).map((m) => m.name);
    const guesses = new Map([...missing.keys()].map((n) => [n, didYouMean(n, installed)]));
    const lines = [...missing].map(([name, where]) => {
      const guess = guesses.get(name);
      return `${where.join(', ')}: plugin package '${name}' is not installed${guess ? `; did you mean '${guess}'?` : ''}`;
    });
    const unknown = [...missing.keys()].filter((n) => !guesses.get(n));
    if (unknown.length > 0) lines.push(`install with: ${installHint(unknown)}`);
    problems.push({ code: ERROR_CODES.CONFIG, line: lines.join('\n  ') });
  }
  if (problems.length > 0) {
    const message = problems.length === 1 ? problems[0].line : `the pipeline's plugins cannot be loaded:\n  ${problems.map((p) => p.line).join('\n  ')}`;
    throw new BevzipError(problems[0].code, message);
  }
  return found;
}

/** A package's plugins, registered into a throw-away child container with the given options. */
function pluginsOf(manifest: PluginManifest, roots: readonly string[], options: Record<string, unknown>, where: string): Plugin[] {
  const mod = require(entryOf(manifest, roots)) as { register?: (c: unknown, o?: unknown) => void };
  if (typeof mod.register !== 'function') {
    throw new BevzipError(ERROR_CODES.PLUGIN_PACKAGE, `${where}: package '${manifest.name}' declares itself a bevzip plugin but exports no register(container, options) function`);
  }
  const child = rootContainer.createChildContainer();
  mod.register(child, options);
  const plugins = child.isRegistered(PLUGIN) ? (child.resolveAll(PLUGIN) as Plugin[]) : [];
  if (plugins.length === 0) throw new BevzipError(ERROR_CODES.PLUGIN_PACKAGE, `${where}: package '${manifest.name}' registered no plugin under the PLUGIN token`);
  return plugins;
}

/** The file to load a plugin package from: its development folder's main, else as Node resolves its name from where it was found. */
function entryOf(manifest: PluginManifest, roots: readonly string[]): string {
  return manifest.dev ? require.resolve(manifest.dir) : require.resolve(manifest.name, { paths: [...roots] });
}

/** Checks API range and options now, so a bad option is reported at its path in the pipeline file. */
function check(p: Plugin, where: string): void {
  if (!semver.validRange(p.apiVersion) || !semver.satisfies(PLUGIN_API_VERSION, p.apiVersion)) {
    throw new BevzipError(ERROR_CODES.PLUGIN_API_VERSION, `${where}: plugin '${p.name}' ${p.version} needs plugin API ${p.apiVersion}, but this bevzip implements ${PLUGIN_API_VERSION}`);
  }
  const parsed = p.definition.options.safeParse(p.rawOptions);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${where}.options${i.path.length ? '.' + formatPath(i.path as PropertyKey[]) : ''}: ${i.message}`);
    throw new BevzipError(ERROR_CODES.PLUGIN_OPTIONS, `invalid options for plugin '${p.name}':\n  ${issues.join('\n  ')}`);
  }
}

/**
 * Instantiates each stage's plugins from their packages (`register(container, options)`). A package
 * listed in several stages with the same options is one instance active in all of them, so state it
 * keeps across stages (calibrated ranges, a progressive schedule) carries over. With different
 * options each gets its own instance, named `name@stage` because plugin names are unique in a run.
 */
export function instantiatePlugins(pipeline: PipelineFile, lookup: PluginLookup): PipelinePlugins {
  const packages = resolvePluginPackages(pipeline, lookup);
  const instances = new Map<string, { plugins: Plugin[]; stage: number }>();
  const perStage = pipeline.stages.map((stage, i) =>
    stage.plugins.flatMap((use, j) => {
      const key = `${use.use}\u0000${JSON.stringify(use.options)}`;
      let made = instances.get(key);
      if (!made) {
        const where = formatPath(['stages', i, 'plugins', j]);
        const plugins = pluginsOf(packages.get(use.use)!, lookup.roots, use.options, where);
        plugins.forEach((p) => check(p, where));
        instances.set(key, (made = { plugins, stage: i }));
      }
      return made.plugins;
    }),
  );
  const all = [...instances.values()];
  const clash = (name: string) => all.filter((m) => m.plugins.some((p) => p.name === name)).length > 1;
  const renamed = new Map<Plugin, Plugin>();
  for (const m of all) for (const p of m.plugins) renamed.set(p, clash(p.name) ? { ...p, name: `${p.name}@${pipeline.stages[m.stage].name}` } : p);
  return { plugins: [...renamed.values()], stagePlugins: perStage.map((list) => list.map((p) => renamed.get(p)!.name)), packages };
}
