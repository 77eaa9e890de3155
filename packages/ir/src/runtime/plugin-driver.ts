import * as semver from 'semver';
import type { DependencyContainer } from 'tsyringe';
import type { z } from 'zod';
import { BevzipError, ERROR_CODES, type ErrorIssue } from '../errors';
import {
  HOOK_NAMES,
  TEARDOWN_HOOKS,
  type FirstHookName,
  type HookHandlers,
  type HookName,
  type ParallelHookName,
  type PluginHooks,
  type QuantizeSpec,
  type ReduceHookName,
  type SequentialHookName,
} from './hooks';
import { PLUGIN_API_VERSION, type Plugin, type PluginRequirements } from './plugin';
import { PLUGIN, type PluginRegister } from './tokens';

/** A plugin after load: options validated, requirements resolved, hooks built. */
export interface LoadedPlugin {
  readonly name: string;
  readonly version: string;
  readonly options: unknown;
  readonly requires: PluginRequirements;
  readonly hooks: PluginHooks<any>;
}

type Handler<K extends HookName> = HookHandlers<any>[K];
type Args<K extends HookName> = Parameters<Handler<K>>;
type Result<K extends HookName> = Awaited<ReturnType<Handler<K>>>;
/**
 * A problem with a plugin found before the run: an incompatible API range, invalid options, a
 * name registered twice. `path` is where it is in the caller's configuration (the use's
 * `optionsPath`, the plugin's own `optionsPath`, then the option), `option` the path inside the
 * plugin's options alone.
 */
export interface PluginIssue extends ErrorIssue {
  readonly plugin: string;
  readonly option?: readonly PropertyKey[];
}

/** One plugin package listed in one stage, with the options given to its `register`. */
export interface PluginUse {
  /** The package (any stable key of `register`): uses with the same package, `plugin` and equal options share one instance. */
  readonly package: string;
  /** Which of the package's named plugins (`plugins` export) `register` is; absent for the package's own `register`. */
  readonly plugin?: string;
  readonly options: unknown;
  /** The package's `register(container, options)`, or the named one: registers plugins under `PLUGIN`. */
  readonly register: PluginRegister;
  /** Where `options` sits in the caller's configuration, e.g. `['stages', 0, 'plugins', 1, 'options']`. */
  readonly optionsPath?: readonly PropertyKey[];
}

/** A stage's name and the plugin packages it lists, in order. */
export interface StagePluginUses {
  readonly name: string;
  readonly uses: readonly PluginUse[];
}

/** Restricts a hook call to the plugins active in a stage; all plugins when omitted. */
export type ActiveSet = ReadonlySet<string> | undefined;

/** How a `first` hook's result splits into per-tensor claims. */
const FIRST_CLAIMS: { [K in FirstHookName]: (result: NonNullable<Result<K>>) => [string, unknown][] } = {
  quantize: (spec: QuantizeSpec) => [
    ...Object.entries(spec.weights ?? {}).map(([k, v]): [string, unknown] => [`weight:${k}`, v]),
    ...Object.entries(spec.activations ?? {}).map(([k, v]): [string, unknown] => [`activation:${k}`, v]),
  ],
};

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('');
}

/**
 * Owns a run's plugins: loads them (from a tsyringe container, `use()` and per-stage package uses
 * with {@link useStages}), validates their options once ({@link check} returns structured issues
 * with paths), then runs their hooks with the kind each hook declares. Order: registration order within the `pre`, normal and `post`
 * buckets, sorted once per hook; teardown hooks run in exactly the reverse of that order.
 */
export class PluginDriver {
  private readonly pending: { plugin: Plugin; at: readonly PropertyKey[] }[] = [];
  /** Per plugin instance: its parsed options, or its issues; filled by {@link check}, so options are parsed once. */
  private readonly checked = new Map<Plugin, { options: unknown } | { issues: PluginIssue[] }>();
  private loaded: LoadedPlugin[] | undefined;
  private readonly sorted = new Map<HookName, { plugin: LoadedPlugin; handler: (...a: any[]) => any }[]>();

  constructor(container?: DependencyContainer) {
    if (container?.isRegistered(PLUGIN, true)) this.pending.push(...container.resolveAll<Plugin>(PLUGIN).map((plugin) => ({ plugin, at: [] })));
  }

  /**
   * Adds a plugin after those from the container. `optionsPath` is where its package's options sit
   * in the caller's configuration (prefixed to option issue paths). Throws E_FROZEN once the driver
   * has started.
   */
  use(plugin: Plugin, optionsPath: readonly PropertyKey[] = []): this {
    this.assertUnfrozen('use()');
    this.pending.push({ plugin, at: [...optionsPath] });
    return this;
  }

  /**
   * Instantiates the plugin packages each stage lists, calling each use's `register` in a child
   * of `container`. A package (with the same `plugin`, if it names one) listed in several stages
   * with the same options is one instance active in all of them, so what it keeps across stages
   * (calibrated ranges, a progressive schedule) carries over; with different options, or another
   * named plugin, each use gets its own instance (`name@stage` after its first stage where two
   * would share a plugin name, since names are unique in a run). Returns the active plugin names
   * per stage, for `StageConfig.plugins`. Options are not validated here: see {@link check}.
   */
  useStages(stages: readonly StagePluginUses[], container: DependencyContainer): string[][] {
    this.assertUnfrozen('useStages()');
    const instances = new Map<string, { plugins: Plugin[]; stage: number; at: readonly PropertyKey[] }>();
    const perStage = stages.map((stage, i) =>
      stage.uses.flatMap((use) => {
        const key = `${use.package}\u0000${use.plugin ?? ''}\u0000${JSON.stringify(use.options ?? {})}`;
        let made = instances.get(key);
        if (!made) {
          const child = container.createChildContainer();
          use.register(child, use.options);
          const plugins = child.isRegistered(PLUGIN) ? child.resolveAll<Plugin>(PLUGIN) : [];
          instances.set(key, (made = { plugins, stage: i, at: use.optionsPath ?? [] }));
        }
        return made.plugins;
      }),
    );
    const all = [...instances.values()];
    const clash = (name: string) => all.filter((m) => m.plugins.some((p) => p.name === name)).length > 1;
    const renamed = new Map<Plugin, Plugin>();
    for (const m of all) {
      for (const p of m.plugins) {
        const named = clash(p.name) ? { ...p, name: `${p.name}@${stages[m.stage].name}` } : p;
        renamed.set(p, named);
        this.use(named, m.at);
      }
    }
    return perStage.map((list) => list.map((p) => renamed.get(p)!.name));
  }

  /** The plugins as registered (options not yet validated), in registration order. */
  get registered(): readonly Plugin[] {
    return this.pending.map((p) => p.plugin);
  }

  get frozen(): boolean {
    return this.loaded !== undefined;
  }

  /** The loaded plugins in registration order (after {@link start}). */
  get plugins(): readonly LoadedPlugin[] {
    if (!this.loaded) throw new BevzipError(ERROR_CODES.CONFIG, 'plugins are loaded by start()');
    return this.loaded;
  }

  /**
   * Every problem of the registered plugins, without throwing: API ranges, options (each issue at
   * its full path) and duplicate names. Options are parsed once; {@link start} uses the result.
   */
  check(): PluginIssue[] {
    const issues: PluginIssue[] = [];
    const seen = new Set<string>();
    for (const { plugin, at } of this.pending) {
      if (seen.has(plugin.name)) {
        issues.push({ code: ERROR_CODES.PLUGIN_DUPLICATE, plugin: plugin.name, path: [...at], message: `plugin '${plugin.name}' is registered twice` });
        continue;
      }
      seen.add(plugin.name);
      let result = this.checked.get(plugin);
      if (!result) this.checked.set(plugin, (result = checkPlugin(plugin, at)));
      if ('issues' in result) issues.push(...result.issues);
    }
    return issues;
  }

  /**
   * Validates every plugin ({@link check}), builds the hooks and freezes the set. Throws the first
   * problem's code; the error's `issues` holds all of them.
   */
  start(): readonly LoadedPlugin[] {
    this.assertUnfrozen('start()');
    const issues = this.check();
    if (issues.length > 0) throw new BevzipError(issues[0].code, issueMessage(issues), { issues });
    const loaded = this.pending.map(({ plugin }) => buildPlugin(plugin, (this.checked.get(plugin) as { options: unknown }).options));
    this.loaded = Object.freeze(loaded) as LoadedPlugin[];
    return this.loaded;
  }

  /** Awaits each handler in turn; `args` is called just before each, so a caller can thread results. */
  async hookSequential<K extends SequentialHookName>(name: K, args: (p: LoadedPlugin) => Args<K>, onResult?: (r: Result<K>, p: LoadedPlugin) => void, active?: ActiveSet): Promise<void> {
    for (const { plugin, handler } of this.handlers(name, active)) {
      const result = await this.guard(plugin, name, () => handler(...args(plugin)));
      onResult?.(result, plugin);
    }
  }

  /** Starts every handler, then awaits them all; results in sorted order. */
  async hookParallel<K extends ParallelHookName>(name: K, args: (p: LoadedPlugin) => Args<K>, active?: ActiveSet): Promise<{ plugin: string; result: Result<K> }[]> {
    const runs = this.handlers(name, active).map(async ({ plugin, handler }) => ({
      plugin: plugin.name,
      result: (await this.guard(plugin, name, () => handler(...args(plugin)))) as Result<K>,
    }));
    return Promise.all(runs);
  }

  /** Folds synchronous handler results into `initial`; each handler sees the accumulator so far. */
  hookReduce<K extends ReduceHookName, A>(name: K, initial: A, args: (p: LoadedPlugin, acc: A) => Args<K>, reduce: (acc: A, r: Result<K>, p: LoadedPlugin) => A, active?: ActiveSet): A {
    let acc = initial;
    for (const { plugin, handler } of this.handlers(name, active)) {
      const r = this.guardSync(plugin, name, () => handler(...args(plugin, acc)));
      acc = reduce(acc, r as Result<K>, plugin);
    }
    return acc;
  }

  /** Per-tensor claims: the first plugin (in sorted order) to claim a key keeps it. */
  hookFirst<K extends FirstHookName>(name: K, args: (p: LoadedPlugin) => Args<K>, active?: ActiveSet): Map<string, { plugin: string; value: unknown }> {
    const won = new Map<string, { plugin: string; value: unknown }>();
    for (const { plugin, handler } of this.handlers(name, active)) {
      const r = this.guardSync(plugin, name, () => handler(...args(plugin))) as Result<K>;
      if (!r) continue;
      for (const [key, value] of FIRST_CLAIMS[name](r)) if (!won.has(key)) won.set(key, { plugin: plugin.name, value });
    }
    return won;
  }

  /** Whether any (active) plugin implements the hook. */
  has(name: HookName, active?: ActiveSet): boolean {
    return this.handlers(name, active).length > 0;
  }

  private handlers(name: HookName, active: ActiveSet) {
    let list = this.sorted.get(name);
    if (!list) {
      const buckets: Record<'pre' | 'normal' | 'post', { plugin: LoadedPlugin; handler: (...a: any[]) => any }[]> = { pre: [], normal: [], post: [] };
      for (const plugin of this.plugins) {
        const hook = plugin.hooks[name];
        if (!hook) continue;
        const handler = (typeof hook === 'function' ? hook : hook.handler) as (...a: any[]) => any;
        const order = typeof hook === 'function' ? undefined : hook.order;
        buckets[order ?? 'normal'].push({ plugin, handler });
      }
      list = [...buckets.pre, ...buckets.normal, ...buckets.post];
      if (TEARDOWN_HOOKS.has(name)) list.reverse();
      this.sorted.set(name, list);
    }
    return active ? list.filter((h) => active.has(h.plugin.name)) : list;
  }

  private async guard<T>(plugin: LoadedPlugin, hook: HookName, fn: () => T): Promise<Awaited<T>> {
    try {
      return await fn();
    } catch (e) {
      throw hookError(plugin.name, hook, e);
    }
  }

  private guardSync<T>(plugin: LoadedPlugin, hook: HookName, fn: () => T): T {
    try {
      const r = fn();
      if (r instanceof Promise) throw new Error(`hook '${hook}' is synchronous but returned a Promise`);
      return r;
    } catch (e) {
      throw hookError(plugin.name, hook, e);
    }
  }

  private assertUnfrozen(what: string): void {
    if (this.loaded) throw new BevzipError(ERROR_CODES.FROZEN, `cannot call ${what}: the plugin set is frozen once the run has started`);
  }
}

/** Re-raises an error from a plugin's hook with the plugin name, the hook and a stable code. */
export function hookError(plugin: string, hook: string, e: unknown): BevzipError {
  if (e instanceof BevzipError && e.code === ERROR_CODES.PLUGIN_HOOK) return e;
  const inner = e instanceof BevzipError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
  return new BevzipError(ERROR_CODES.PLUGIN_HOOK, `plugin '${plugin}' failed in hook '${hook}': ${inner}`, { cause: e });
}

/** API range and options of one plugin: its parsed options, or its issues. */
function checkPlugin(p: Plugin, at: readonly PropertyKey[]): { options: unknown } | { issues: PluginIssue[] } {
  const issue = (code: PluginIssue['code'], message: string, option?: PropertyKey[]): PluginIssue => ({
    code,
    plugin: p.name,
    path: option ? [...at, ...(p.optionsPath ?? []), ...option] : [...at],
    ...(option ? { option } : {}),
    message,
  });
  if (!semver.validRange(p.apiVersion)) {
    return { issues: [issue(ERROR_CODES.PLUGIN_API_VERSION, `plugin '${p.name}' declares apiVersion '${p.apiVersion}', which is not a semver range`)] };
  }
  if (!semver.satisfies(PLUGIN_API_VERSION, p.apiVersion)) {
    return {
      issues: [issue(ERROR_CODES.PLUGIN_API_VERSION, `plugin '${p.name}' (${p.version}) requires plugin API ${p.apiVersion}, but @bevzip/ir implements plugin API ${PLUGIN_API_VERSION}`)],
    };
  }
  const parsed = (p.definition.options as z.ZodType).safeParse(p.rawOptions);
  if (parsed.success) return { options: parsed.data };
  return { issues: parsed.error.issues.map((i) => issue(ERROR_CODES.PLUGIN_OPTIONS, i.message, [...i.path])) };
}

/** One line per plugin: `plugin 'p': invalid options: option 'a.b': …; option 'c': …`, or the problem itself. */
function issueMessage(issues: readonly PluginIssue[]): string {
  const lines: string[] = [];
  const byPlugin = new Map<string, PluginIssue[]>();
  for (const i of issues) {
    if (i.code !== ERROR_CODES.PLUGIN_OPTIONS) lines.push(i.message);
    else byPlugin.set(i.plugin, [...(byPlugin.get(i.plugin) ?? []), i]);
  }
  for (const [plugin, list] of byPlugin) {
    lines.push(`plugin '${plugin}': invalid options: ${list.map((i) => `option '${formatPath(i.option ?? [])}': ${i.message}`).join('; ')}`);
  }
  return lines.join('\n');
}

/** Requirements and hooks of a plugin whose options passed {@link checkPlugin}. */
function buildPlugin(p: Plugin, options: unknown): LoadedPlugin {
  const def = p.definition;
  const requires = (typeof def.requires === 'function' ? def.requires(options) : def.requires) ?? {};
  let hooks: PluginHooks<any>;
  try {
    hooks = def.hooks(options);
  } catch (e) {
    throw hookError(p.name, 'hooks', e);
  }
  for (const key of Object.keys(hooks)) {
    if (key === 'state') {
      const st = hooks.state;
      if (typeof st?.save !== 'function' || typeof st?.restore !== 'function') throw new BevzipError(ERROR_CODES.PLUGIN_HOOK, `plugin '${p.name}' defines 'state' without both save() and restore()`);
      continue;
    }
    if (!(key in HOOK_NAMES)) {
      throw new BevzipError(ERROR_CODES.PLUGIN_HOOK, `plugin '${p.name}' defines unknown hook '${key}'; hooks are: ${Object.keys(HOOK_NAMES).join(', ')}`);
    }
  }
  return { name: p.name, version: p.version, options, requires, hooks };
}
