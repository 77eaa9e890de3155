/** Error codes of the scaffold; kept here because the scaffold runs without `@bevzip/ir` installed. */
export const CREATE_PLUGIN_ERRORS = {
  NAME: 'E_PLUGIN_NAME',
  TARGET: 'E_TARGET_NOT_EMPTY',
  ARGS: 'E_ARGS',
} as const;

export type CreatePluginErrorCode = (typeof CREATE_PLUGIN_ERRORS)[keyof typeof CREATE_PLUGIN_ERRORS];

/** A bad name, target folder or argument; `code` is stable, the message says what was expected. */
export class CreatePluginError extends Error {
  constructor(
    readonly code: CreatePluginErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CreatePluginError';
  }
}

/** Where the package will live: its own repository, or a folder of the bevzip workspace. */
export type Flavor = 'standalone' | 'workspace';

/** Every name the templates need, derived once from what the user typed. */
export interface PluginNames {
  /** The npm package name; also the plugin's `name`, the name a pipeline file's `use` gives. */
  packageName: string;
  /** Last path segment of the package name, used as the default folder. */
  folder: string;
  /** camelCase identifier of the plugin factory, e.g. `myMethod`. */
  factory: string;
  /** The factory's options schema identifier, e.g. `myMethodOptions`. */
  optionsSchema: string;
}

// npm's rules: lowercase, URL-safe, an optional scope, at most 214 characters.
const NPM_NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;
const METHOD = /^[a-z][a-z0-9-]*$/;

/**
 * Derives the package, folder and identifier names from a method or package name. In the
 * workspace flavour a bare method name `x` becomes `@bevzip/plugin-x`, as bevzip's own plugins are
 * named; standalone, the name is taken as the package name (scoped names are welcome).
 */
export function pluginNames(input: string, flavor: Flavor = 'standalone'): PluginNames {
  const name = input.trim();
  if (!NPM_NAME.test(name) || name.length > 214) {
    throw new CreatePluginError(
      CREATE_PLUGIN_ERRORS.NAME,
      `plugin name '${input}' is not a valid npm package name: expected lowercase letters, digits, '-', '.', '_' or '~', optionally scoped like @acme/my-method`,
    );
  }
  const bare = name.includes('/') ? name.slice(name.indexOf('/') + 1) : name;
  if (flavor === 'workspace' && !name.includes('/') && !METHOD.test(name)) {
    throw new CreatePluginError(CREATE_PLUGIN_ERRORS.NAME, `method name '${input}' must start with a letter and hold only lowercase letters, digits and '-'`);
  }
  const packageName = flavor === 'workspace' && !name.includes('/') ? `@bevzip/plugin-${name}` : name;
  const folder = flavor === 'workspace' && !name.includes('/') ? `plugin-${name}` : bare;
  const words = bare.replace(/^(bevzip-)?plugin-/, '').split(/[^a-z0-9]+/).filter(Boolean);
  if (words.length === 0) throw new CreatePluginError(CREATE_PLUGIN_ERRORS.NAME, `plugin name '${input}' holds no letters or digits to name the factory after`);
  let factory = words.map((w, i) => (i === 0 ? w : w[0].toUpperCase() + w.slice(1))).join('');
  if (/^[0-9]/.test(factory)) factory = `plugin${factory[0].toUpperCase()}${factory.slice(1)}`;
  return { packageName, folder, factory, optionsSchema: `${factory}Options` };
}
