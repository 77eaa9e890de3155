import { CREATE_PLUGIN_ERRORS, CreatePluginError, type Flavor } from './names';
import { scaffoldFiles } from './scaffold';

/** The part of Nx's virtual file tree the generator uses (typed here so Nx is not a dependency). */
export interface GeneratorTree {
  readonly root: string;
  exists(filePath: string): boolean;
  children(dirPath: string): string[];
  write(filePath: string, content: string): void;
}

/** Options of `nx g @bevzip/create-plugin:plugin`, as declared in schema.json. */
export interface PluginGeneratorSchema {
  name: string;
  directory?: string;
  description?: string;
  /** `workspace` (default): a package beside bevzip's own; `standalone`: its own repository layout. */
  flavor?: Flavor;
}

/**
 * Nx generator: writes a plugin package into the workspace tree (default `packages/plugin-<name>`),
 * with the same templates as `npx @bevzip/create-plugin`. Nx shows the files before writing them
 * and honours `--dry-run`. Returns the reminder Nx prints after writing.
 */
export function pluginGenerator(tree: GeneratorTree, schema: PluginGeneratorSchema): () => void {
  const flavor = schema.flavor ?? 'workspace';
  const scaffold = scaffoldFiles({ name: schema.name, flavor, description: schema.description, directory: schema.directory });
  const directory = flavor === 'workspace' ? scaffold.directory : (schema.directory ?? scaffold.directory).replace(/\/+$/, '');
  if (tree.exists(directory) && tree.children(directory).length > 0) {
    throw new CreatePluginError(CREATE_PLUGIN_ERRORS.TARGET, `folder '${directory}' is not empty; pass another --directory`);
  }
  for (const [rel, content] of Object.entries(scaffold.files)) tree.write(`${directory}/${rel}`, content);
  return () => {
    process.stdout.write(`\n${scaffold.names.packageName} is in ${directory}. Run npm install at the workspace root to link it, then npx nx test ${scaffold.names.packageName}.\n`);
  };
}

export default pluginGenerator;
