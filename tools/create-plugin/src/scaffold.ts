import * as fs from 'node:fs';
import * as path from 'node:path';
import { CREATE_PLUGIN_ERRORS, CreatePluginError, pluginNames, type Flavor, type PluginNames } from './names';
import { pluginSource, pluginSpec } from './templates/plugin-source';
import { readme } from './templates/readme';
import { standaloneConfigFiles } from './templates/standalone';
import { workspaceConfigFiles } from './templates/workspace';
import { bevzipVersions, type BevzipVersions } from './versions';

export interface ScaffoldOptions {
  /** A method name (`my-method`) or a full package name (`@acme/bevzip-plugin-foo`). */
  name: string;
  /** `standalone` (default): its own repository. `workspace`: a folder of the bevzip workspace. */
  flavor?: Flavor;
  /** One sentence for package.json, the README and the plugin's `description`. */
  description?: string;
  /** Workspace flavour only: the package folder relative to the workspace root (default `packages/<folder>`). */
  directory?: string;
  /** Default: the versions this scaffold was released with. */
  versions?: BevzipVersions;
}

export interface Scaffold {
  names: PluginNames;
  /** Where the package goes: a folder name (standalone) or the workspace-relative directory. */
  directory: string;
  /** File contents by path relative to the package folder. */
  files: Record<string, string>;
}

/** Every file of a new plugin package, as data; nothing is written. */
export function scaffoldFiles(options: ScaffoldOptions): Scaffold {
  const flavor = options.flavor ?? 'standalone';
  const names = pluginNames(options.name, flavor);
  const versions = options.versions ?? bevzipVersions();
  const description = (options.description ?? `The ${names.packageName} compression method for bevzip`).trim().replace(/\s+/g, ' ');
  const directory = flavor === 'workspace' ? normalizeDirectory(options.directory ?? `packages/${names.folder}`) : names.folder;
  const config = flavor === 'workspace' ? workspaceConfigFiles(names, versions, description, directory) : standaloneConfigFiles(names, versions, description);
  const files = {
    ...config,
    'README.md': readme(names, description, flavor),
    'src/index.ts': pluginSource(names, versions.pluginApi, description),
    'src/index.spec.ts': pluginSpec(names),
  };
  return { names, directory, files };
}

function normalizeDirectory(dir: string): string {
  const d = dir.replace(/\\/g, '/').replace(/^\.\//, '').replace(/\/+$/, '');
  if (d === '' || d.startsWith('/') || d.split('/').includes('..')) {
    throw new CreatePluginError(CREATE_PLUGIN_ERRORS.ARGS, `directory '${dir}' must be a folder inside the workspace, e.g. packages/plugin-my-method`);
  }
  return d;
}

/**
 * Writes the files under `target`. Refuses a folder that already holds anything unless `force`,
 * so an existing package is never overwritten by accident. Returns the written paths.
 */
export function writeScaffold(target: string, files: Record<string, string>, { force = false }: { force?: boolean } = {}): string[] {
  if (fs.existsSync(target)) {
    if (!fs.statSync(target).isDirectory()) throw new CreatePluginError(CREATE_PLUGIN_ERRORS.TARGET, `'${target}' exists and is not a folder`);
    const present = fs.readdirSync(target);
    if (present.length > 0 && !force) {
      throw new CreatePluginError(CREATE_PLUGIN_ERRORS.TARGET, `folder '${target}' is not empty (holds ${present.slice(0, 3).join(', ')}${present.length > 3 ? ', …' : ''}); choose another name or --dir, or pass --force`);
    }
  }
  const written: string[] = [];
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(target, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    written.push(file);
  }
  return written;
}
