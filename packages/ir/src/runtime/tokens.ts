import type { InjectionToken } from 'tsyringe';
import type { Plugin } from './plugin';

/**
 * The DI token plugins are registered under. A plugin package exports
 * `register(container) { container.register(PLUGIN, { useValue: myPlugin(options) }) }`; the runtime
 * reads them all with `container.resolveAll(PLUGIN)`. A global symbol, so copies of this package
 * loaded twice still agree on it.
 */
export const PLUGIN: InjectionToken<Plugin> = Symbol.for('@bevzip/ir:plugin');
