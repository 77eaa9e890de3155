import type { Command } from 'commander';
import { PLUGIN_API_VERSION } from '@bevzip/ir';
import { findInstalledPluginPackages, inspectPluginPackage } from '../plugins/discover';

export function registerPlugins(program: Command): void {
  program
    .command('plugins')
    .description('list installed bevzip plugin packages with version and plugin-API range')
    .argument('[packages...]', 'also inspect these package names (e.g. those a pipeline names)')
    .option('--json', 'print JSON')
    .option('--from <dir>', 'resolve packages from this folder', process.cwd())
    .action((extra: string[], options: { json?: boolean; from: string }) => {
      const names = [...new Set([...findInstalledPluginPackages(options.from), ...extra])];
      const infos = names.map((n) => inspectPluginPackage(n, options.from));
      if (options.json) {
        process.stdout.write(JSON.stringify({ apiVersion: PLUGIN_API_VERSION, packages: infos }, null, 2) + '\n');
        return;
      }
      const lines = [`bevzip plugin API ${PLUGIN_API_VERSION}`];
      if (infos.length === 0) lines.push('no plugin packages installed (install one, e.g. npm install @bevzip/plugin-altermoma)');
      for (const info of infos) {
        if (info.error) {
          lines.push(`✗ ${info.packageName}${info.packageVersion ? '@' + info.packageVersion : ''}: ${info.error}`);
          continue;
        }
        for (const p of info.plugins) {
          const mark = p.compatible ? '✓' : '✗';
          const note = p.compatible ? '' : ` — needs plugin API ${p.apiVersion}, this bevzip has ${PLUGIN_API_VERSION}`;
          lines.push(`${mark} ${info.packageName}@${info.packageVersion ?? '?'}  plugin ${p.name} ${p.version}  api ${p.apiVersion}${note}`);
          if (p.description) lines.push(`    ${p.description}`);
        }
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
}
