import * as path from 'node:path';
import 'reflect-metadata';
import { container as rootContainer } from 'tsyringe';
import * as semver from 'semver';
import { BevzipError, ERROR_CODES, PLUGIN, PLUGIN_API_VERSION, type Plugin } from '@bevzip/ir';
import { installHint } from '../plugins/discover';
import { formatPath } from './load-file';
import type { PipelineFile } from './schema';

/** Where plugin packages are looked up: the working directory first, then the CLI's own install. */
export interface PluginLookup {
  cwd: string;
  /** Directory of the pipeline file; `use` values starting with `.` are paths relative to it. */
  fileDir: string;
}

/** The plugin instances of a pipeline, and which are active in each stage. */
export interface PipelinePlugins {
  plugins: Plugin[];
  /** Per stage, the names of its active plugins (as renamed, see {@link instantiatePlugins}). */
  stagePlugins: string[][];
  /** Package name → resolved entry file. */
  packages: Map<string, string>;
}

function isPath(use: string): boolean {
  return use.startsWith('.') || path.isAbsolute(use);
}

/**
 * Resolves every plugin package a pipeline names, before any work, so a missing one fails at once
 * with the command that installs it.
 * @throws BevzipError (E_CONFIG) naming each missing package, where the pipeline names it, and the install command.
 */
export function resolvePluginPackages(pipeline: PipelineFile, lookup: PluginLookup): Map<string, string> {
  const found = new Map<string, string>();
  const missing = new Map<string, string[]>();
  pipeline.stages.forEach((stage, i) =>
    stage.plugins.forEach((p, j) => {
      if (found.has(p.use)) return;
      try {
        const entry = isPath(p.use) ? require.resolve(path.resolve(lookup.fileDir, p.use)) : require.resolve(p.use, { paths: [lookup.cwd, __dirname] });
        found.set(p.use, entry);
      } catch {
        missing.set(p.use, [...(missing.get(p.use) ?? []), formatPath(['stages', i, 'plugins', j, 'use'])]);
      }
    }),
  );
  if (missing.size > 0) {
    const lines = [...missing].map(([name, where]) => `'${name}' (${where.join(', ')})`);
    const packages = [...missing.keys()].filter((n) => !isPath(n));
    const hint = packages.length > 0 ? `; install with: ${installHint(packages.join(' '))}` : '';
    throw new BevzipError(ERROR_CODES.CONFIG, `the pipeline uses plugin packages that are not installed: ${lines.join(', ')}${hint}`);
  }
  return found;
}

/** A package's plugins, registered into a throw-away child container with the given options. */
function pluginsOf(use: string, entry: string, options: Record<string, unknown>, where: string): Plugin[] {
  const mod = require(entry) as { register?: (c: unknown, o?: unknown) => void };
  if (typeof mod.register !== 'function') {
    throw new BevzipError(ERROR_CODES.CONFIG, `${where}: package '${use}' exports no register(container, options) function, so it is not a bevzip plugin package`);
  }
  const child = rootContainer.createChildContainer();
  mod.register(child, options);
  const plugins = child.isRegistered(PLUGIN) ? (child.resolveAll(PLUGIN) as Plugin[]) : [];
  if (plugins.length === 0) throw new BevzipError(ERROR_CODES.CONFIG, `${where}: package '${use}' registered no plugin under the PLUGIN token`);
  return plugins;
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
        const plugins = pluginsOf(use.use, packages.get(use.use)!, use.options, where);
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
