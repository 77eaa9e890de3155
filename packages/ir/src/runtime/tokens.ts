import type { DependencyContainer, InjectionToken } from 'tsyringe';
import type { z } from 'zod';
import type { Plugin, PluginFactory } from './plugin';

/**
 * The DI token plugins are registered under. A plugin package exports
 * `register(container) { container.register(PLUGIN, { useValue: myPlugin(options) }) }`; the runtime
 * reads them all with `container.resolveAll(PLUGIN)`. A global symbol, so copies of this package
 * loaded twice still agree on it.
 */
export const PLUGIN: InjectionToken<Plugin> = Symbol.for('@bevzip/ir:plugin');

/**
 * What a plugin package exports as `register(container, options)`: registers its plugin(s), made
 * with `options`, under {@link PLUGIN}.
 */
export type PluginRegister<O = any> = (container: DependencyContainer, options?: O) => void;

/**
 * A package that ships several plugins exports them, next to `register` (what a pipeline entry
 * without `plugin` runs), as `export const plugins = { name: register, … }`; a pipeline entry picks
 * one with `plugin: name`. The names are also declared in its package.json (`bevzip.plugins`), so
 * they can be listed and checked without running the package.
 */
export type NamedPlugins = Readonly<Record<string, PluginRegister>>;

/** The register of one plugin: `factory(options)` under {@link PLUGIN}. */
export function pluginRegister<S extends z.ZodType>(factory: PluginFactory<S>): PluginRegister<z.input<S>> {
  return (container, options) => container.register(PLUGIN, { useValue: factory(options) });
}
