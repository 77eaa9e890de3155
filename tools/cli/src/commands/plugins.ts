import type { Command } from 'commander';
import { PLUGIN_API_VERSION } from '@bevzip/ir';
import { formatPluginList, listPluginPackages } from '../plugins/discover';
import { pluginLookup } from '../pipeline/plugins';

export function registerPlugins(program: Command): void {
  program
    .command('plugins')
    .description('list the installed bevzip plugin packages with version, plugin-API range and the named plugins a pipeline entry picks with "plugin", read from their package.json files (no plugin code is run)')
    .argument('[packages...]', 'also check these package names (e.g. those a pipeline names) and say why any is not usable')
    .option('--json', 'print JSON')
    .option('--from <dir>', 'the project folder whose node_modules are searched', process.cwd())
    .option('--plugin-dev <folder>', 'also list a plugin in development in this folder. Repeatable', (value: string, all: string[]) => [...all, value], [] as string[])
    .action((extra: string[], options: { json?: boolean; from: string; pluginDev: string[] }) => {
      const infos = listPluginPackages(pluginLookup(options.from).roots, { devDirs: options.pluginDev, extra });
      if (options.json) process.stdout.write(JSON.stringify({ apiVersion: PLUGIN_API_VERSION, packages: infos }, null, 2) + '\n');
      else process.stdout.write(formatPluginList(infos) + '\n');
    });
}
