import * as semver from 'semver';
import type { DependencyContainer } from 'tsyringe';
import type { z } from 'zod';
import { BevzipError, ERROR_CODES } from '../errors';
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
import { PLUGIN } from './tokens';

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
 * Loads plugins (from a tsyringe container and `use()`), checks them, then runs their hooks with
 * the kind each hook declares. Order: registration order within the `pre`, normal and `post`
 * buckets, sorted once per hook; teardown hooks run in exactly the reverse of that order.
 */
export class PluginDriver {
  private readonly pending: Plugin[] = [];
  private loaded: LoadedPlugin[] | undefined;
  private readonly sorted = new Map<HookName, { plugin: LoadedPlugin; handler: (...a: any[]) => any }[]>();

  constructor(container?: DependencyContainer) {
    if (container?.isRegistered(PLUGIN, true)) this.pending.push(...container.resolveAll(PLUGIN));
  }

  /** Adds a plugin after those from the container. Throws E_FROZEN once the driver has started. */
  use(plugin: Plugin): this {
    this.assertUnfrozen('use()');
    this.pending.push(plugin);
    return this;
  }

  get frozen(): boolean {
    return this.loaded !== undefined;
  }

  /** The loaded plugins in registration order (after {@link start}). */
  get plugins(): readonly LoadedPlugin[] {
    if (!this.loaded) throw new BevzipError(ERROR_CODES.CONFIG, 'plugins are loaded by start()');
    return this.loaded;
  }

  /** Validates every plugin and freezes the set. */
  start(): readonly LoadedPlugin[] {
    this.assertUnfrozen('start()');
    const seen = new Set<string>();
    const loaded = this.pending.map((p) => {
      if (seen.has(p.name)) throw new BevzipError(ERROR_CODES.PLUGIN_DUPLICATE, `plugin '${p.name}' is registered twice`);
      seen.add(p.name);
      return loadPlugin(p);
    });
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

function loadPlugin(p: Plugin): LoadedPlugin {
  if (!semver.validRange(p.apiVersion)) {
    throw new BevzipError(ERROR_CODES.PLUGIN_API_VERSION, `plugin '${p.name}' declares apiVersion '${p.apiVersion}', which is not a semver range`);
  }
  if (!semver.satisfies(PLUGIN_API_VERSION, p.apiVersion)) {
    throw new BevzipError(
      ERROR_CODES.PLUGIN_API_VERSION,
      `plugin '${p.name}' (${p.version}) requires plugin API ${p.apiVersion}, but @bevzip/ir implements plugin API ${PLUGIN_API_VERSION}`,
    );
  }
  const def = p.definition;
  const parsed = (def.options as z.ZodType).safeParse(p.rawOptions);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `option '${formatPath(i.path)}': ${i.message}`).join('; ');
    throw new BevzipError(ERROR_CODES.PLUGIN_OPTIONS, `plugin '${p.name}': invalid options: ${issues}`);
  }
  const options = parsed.data;
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
