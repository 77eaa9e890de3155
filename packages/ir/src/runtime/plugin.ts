import type { z } from 'zod';
import type { TagSelector } from '../graph';
import type { PluginHooks } from './hooks';

/** The version of the hook and plugin API this build of `@bevzip/ir` implements. */
export const PLUGIN_API_VERSION = '1.0.0';

/** A tensor a plugin needs to see: a value name, or every node output matching a selector. */
export type TapRequest = TagSelector | string;

export interface PluginRequirements {
  /** Student values returned to the `loss` hook as taps. */
  taps?: TapRequest[];
  /** A frozen teacher must be present; with `taps`, those teacher values are computed each step. */
  teacher?: boolean | { taps: TapRequest[] };
}

export interface PluginMeta {
  /** Unique within a run; also the package folder and the test name. */
  readonly name: string;
  readonly version: string;
  /** Semver range of {@link PLUGIN_API_VERSION} values this plugin works with, e.g. `^1.0.0`. */
  readonly apiVersion: string;
  readonly description: string;
}

/** What `definePlugin` is given. `hooks` builds fresh handlers (and their private state) per run. */
export interface PluginDefinition<S extends z.ZodType> extends PluginMeta {
  readonly options: S;
  readonly requires?: PluginRequirements | ((options: z.output<S>) => PluginRequirements);
  readonly hooks: (options: z.output<S>) => PluginHooks<z.output<S>>;
}

/**
 * A plugin with its options not yet validated: plain data the driver checks at load (API version,
 * options, uniqueness) before building its hooks. This is what goes under the `PLUGIN` token.
 */
export interface Plugin<S extends z.ZodType = z.ZodType> extends PluginMeta {
  readonly definition: PluginDefinition<S>;
  /** The options as given, validated by the driver against `definition.options`. */
  readonly rawOptions: unknown;
  /**
   * Where `rawOptions` sits inside the options the package's `register(container, options)` was
   * given (e.g. `['quantize']` when one package registers several plugins from one options object);
   * option issues are reported at that path. Default: the whole options object.
   */
  readonly optionsPath?: readonly PropertyKey[];
}

/** Where a plugin's options came from, given to a factory by a package's `register`. */
export interface PluginPlacement {
  /** See {@link Plugin.optionsPath}. */
  optionsPath?: readonly PropertyKey[];
}

/** Builds a plugin instance from (unvalidated) options. */
export type PluginFactory<S extends z.ZodType> = ((options?: z.input<S>, placement?: PluginPlacement) => Plugin<S>) & { readonly definition: PluginDefinition<S> };

/**
 * Declares a plugin: metadata, a zod options schema, its requirements and a hooks builder. The
 * result is a factory; `factory(options)` makes the instance a package registers under `PLUGIN`.
 *
 * @example
 * export const l2Decay = definePlugin({
 *   name: 'l2-decay', version: '0.1.0', apiVersion: '^1.0.0', description: 'adds λ‖w‖²',
 *   options: z.object({ lambda: z.number().positive().default(1e-4) }),
 *   hooks: (o) => ({ loss: (ctx) => ({ decay: { value: sumOfSquares(ctx.params), weight: o.lambda } }) }),
 * });
 * container.register(PLUGIN, { useValue: l2Decay({ lambda: 1e-3 }) });
 */
export function definePlugin<S extends z.ZodType>(definition: PluginDefinition<S>): PluginFactory<S> {
  const factory = (options?: z.input<S>, placement?: PluginPlacement): Plugin<S> => ({
    name: definition.name,
    version: definition.version,
    apiVersion: definition.apiVersion,
    description: definition.description,
    definition,
    rawOptions: options ?? {},
    ...(placement?.optionsPath?.length ? { optionsPath: [...placement.optionsPath] } : {}),
  });
  return Object.assign(factory, { definition });
}
