import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { BevzipError, ERROR_CODES, PLUGIN, PLUGIN_API_VERSION, PluginDriver } from '@bevzip/ir';
import { didYouMean, findPluginManifests, installHint, isProblem, locatePackage, packageNameProblem, readDevManifests, readManifest, type PluginManifest } from '../plugins/manifest';
import { formatPath, positionOf } from './load-file';
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
  /** Holds the instances, options already validated; hand it to the `Pipeline`. */
  driver: PluginDriver;
  /** Per stage, the names of its active plugins (as the driver named them). */
  stagePlugins: string[][];
  /** Package name → its manifest, as read before loading it. */
  packages: Map<string, PluginManifest>;
}

/** The pipeline file's text, for issue positions. */
export interface PipelineSource {
  file: string;
  text: string;
}

/** `file:line:col: path` of a pipeline field when the source is known, else the path alone. */
function fieldAt(path: readonly PropertyKey[], source?: PipelineSource): string {
  if (!source) return formatPath(path);
  const pos = positionOf(source.text, path);
  return `${source.file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${formatPath(path)}`;
}

/** Why a use's `plugin` does not name one of the package's named plugins, or undefined when it does (or is absent). */
function namedPluginProblem(use: { use: string; plugin?: string }, manifest: PluginManifest): string | undefined {
  if (use.plugin === undefined) return undefined;
  const names = Object.keys(manifest.plugins ?? {});
  if (names.length === 0) {
    return `package '${use.use}' offers no named plugins (its package.json has no "bevzip": { "plugins": … }), so there is no '${use.plugin}' to pick; remove 'plugin' to use the package's register()`;
  }
  if (names.includes(use.plugin)) return undefined;
  const guess = didYouMean(use.plugin, names);
  return `package '${use.use}' has no plugin '${use.plugin}'${guess ? `; did you mean '${guess}'? It` : '; it'} offers: ${names.join(', ')}`;
}

/**
 * Finds every plugin package a pipeline names, before any work and without running any package
 * code: each `use` must be an npm package name, installed, and declare a bevzip plugin API range
 * (its package.json `bevzip` field) that this bevzip satisfies; a `plugin` must be one of the names
 * it declares (`bevzip.plugins`). All problems are reported at once, each at its place in the
 * pipeline file (`file:line:col` when `source` is given).
 * @throws BevzipError E_CONFIG (not a package name, not installed: with "did you mean" among the
 *   installed plugins, else the install command; a `plugin` the package does not offer),
 *   E_PLUGIN_PACKAGE (installed but not a plugin), E_PLUGIN_API_VERSION (declares an API range this
 *   bevzip does not implement).
 */
export function resolvePluginPackages(pipeline: PipelineFile, lookup: PluginLookup, source?: PipelineSource): Map<string, PluginManifest> {
  const dev = readDevManifests(lookup.devDirs ?? []);
  const found = new Map<string, PluginManifest>();
  const problems: { code: (typeof ERROR_CODES)[keyof typeof ERROR_CODES]; line: string }[] = [];
  const missing = new Map<string, string[]>();
  const seen = new Set<string>();
  pipeline.stages.forEach((stage, i) =>
    stage.plugins.forEach((p, j) => {
      const where = fieldAt(['stages', i, 'plugins', j, 'use'], source);
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
  pipeline.stages.forEach((stage, i) =>
    stage.plugins.forEach((p, j) => {
      const manifest = found.get(p.use);
      const problem = manifest && namedPluginProblem(p, manifest);
      if (problem) problems.push({ code: ERROR_CODES.CONFIG, line: `${fieldAt(['stages', i, 'plugins', j, 'plugin'], source)}: ${problem}` });
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

type Register = (c: DependencyContainer, o: unknown) => void;

/**
 * A package's `register`, or with `plugin` its `plugins[plugin]` (a name its package.json declares,
 * checked before), loaded from its entry; it must register at least one plugin.
 */
function registerOf(manifest: PluginManifest, roots: readonly string[], where: string, plugin?: string): Register {
  const mod = require(entryOf(manifest, roots)) as { register?: unknown; plugins?: Record<string, unknown> };
  // Own properties only: a declared name such as 'toString' must not reach Object.prototype.
  const fn = plugin === undefined ? mod.register : mod.plugins && Object.hasOwn(mod.plugins, plugin) ? mod.plugins[plugin] : undefined;
  const what = plugin === undefined ? `'${manifest.name}'` : `'${manifest.name}' plugin '${plugin}'`;
  if (typeof fn !== 'function') {
    const missing =
      plugin === undefined
        ? 'declares itself a bevzip plugin but exports no register(container, options) function'
        : `declares plugin '${plugin}' in its package.json (bevzip.plugins) but its entry exports no plugins[${JSON.stringify(plugin)}] register function`;
    throw new BevzipError(ERROR_CODES.PLUGIN_PACKAGE, `${where}: package '${manifest.name}' ${missing}`);
  }
  return (c, o) => {
    (fn as Register)(c, o);
    if (!c.isRegistered(PLUGIN)) throw new BevzipError(ERROR_CODES.PLUGIN_PACKAGE, `${where}: package ${what} registered no plugin under the PLUGIN token`);
  };
}

/** The file to load a plugin package from: its development folder's main, else as Node resolves its name from where it was found. */
function entryOf(manifest: PluginManifest, roots: readonly string[]): string {
  return manifest.dev ? require.resolve(manifest.dir) : require.resolve(manifest.name, { paths: [...roots] });
}

/**
 * Instantiates each stage's plugins from their packages through the runtime's `PluginDriver`
 * (`useStages`: one instance per package and options, see docs/hooks.md) and has the driver check
 * their options; each issue is reported at `file:line:col` of its path in the pipeline file.
 * @throws BevzipError E_PLUGIN_OPTIONS / E_PLUGIN_API_VERSION / E_PLUGIN_DUPLICATE with every issue.
 */
export function instantiatePlugins(pipeline: PipelineFile, lookup: PluginLookup, source?: PipelineSource): PipelinePlugins {
  const packages = resolvePluginPackages(pipeline, lookup, source);
  const registers = new Map<string, Register>();
  const driver = new PluginDriver();
  const stagePlugins = driver.useStages(
    pipeline.stages.map((stage, i) => ({
      name: stage.name,
      uses: stage.plugins.map((use, j) => {
        const where = fieldAt(['stages', i, 'plugins', j], source);
        const key = `${use.use}\u0000${use.plugin ?? ''}`;
        let register = registers.get(key);
        if (!register) registers.set(key, (register = registerOf(packages.get(use.use)!, lookup.roots, where, use.plugin)));
        return { package: use.use, ...(use.plugin !== undefined ? { plugin: use.plugin } : {}), options: use.options, register, optionsPath: ['stages', i, 'plugins', j, 'options'] };
      }),
    })),
    rootContainer,
  );
  const issues = driver.check();
  if (issues.length > 0) {
    const lines = issues.map((i) => {
      const pos = source && i.path.length ? positionOf(source.text, i.path) : undefined;
      const at = source ? `${source.file}${pos ? `:${pos.line}:${pos.col}` : ''}: ` : '';
      return i.path.length && i.code === ERROR_CODES.PLUGIN_OPTIONS ? `${at}${formatPath(i.path)}: ${i.message}` : `${at}${i.path.length ? formatPath(i.path) + ': ' : ''}${i.message}`;
    });
    const plugins = [...new Set(issues.map((i) => `'${i.plugin}'`))].join(', ');
    throw new BevzipError(issues[0].code, `invalid plugin${plugins.includes(',') ? 's' : ''} ${plugins}:\n  ${lines.join('\n  ')}`, { issues });
  }
  return { driver, stagePlugins, packages };
}
