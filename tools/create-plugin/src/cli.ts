import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { CREATE_PLUGIN_ERRORS, CreatePluginError } from './names';
import { scaffoldFiles, writeScaffold } from './scaffold';

export const USAGE = `Usage: npx @bevzip/create-plugin <name> [options]

Creates a bevzip plugin package in ./<name> (its own repository): definePlugin and register in
src/index.ts, a plugin-tester suite in src/index.spec.ts, a README, build and test scripts.

  <name>                  method or npm package name, e.g. my-method or @acme/bevzip-plugin-x

Options:
  --dir <folder>          create the package here instead of ./<name>
  --description <text>    one sentence describing the method
  --force                 write into a folder that is not empty
  -v, --version           print the version
  -h, --help              print this help
`;

interface Io {
  cwd: string;
  out: (s: string) => void;
}

/** Runs the scaffold command line; returns the exit code. Errors of the user's making print without a stack. */
export function runCli(argv: string[], io: Io = { cwd: process.cwd(), out: (s) => process.stdout.write(s) }): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        dir: { type: 'string' },
        description: { type: 'string' },
        force: { type: 'boolean', default: false },
        version: { type: 'boolean', short: 'v', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    throw new CreatePluginError(CREATE_PLUGIN_ERRORS.ARGS, `${(e as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (values.version) {
    io.out(`${(require('../package.json') as { version: string }).version}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new CreatePluginError(CREATE_PLUGIN_ERRORS.ARGS, `expected exactly one plugin name, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}\n\n${USAGE}`);
  }
  const scaffold = scaffoldFiles({ name: positionals[0], description: values.description });
  const target = path.resolve(io.cwd, values.dir ?? scaffold.directory);
  const written = writeScaffold(target, scaffold.files, { force: values.force });
  const shown = path.relative(io.cwd, target) || '.';
  io.out(
    [
      `Created ${scaffold.names.packageName} in ${shown} (${written.length} files):`,
      ...Object.keys(scaffold.files).map((f) => `  ${f}`),
      '',
      'Next:',
      `  cd ${shown}`,
      '  npm install',
      '  npm test          # plugin-tester cases, the conformance suite, the reference checks',
      '  npm run build',
      '',
      `Then name "${scaffold.names.packageName}" in a pipeline file's plugins and run npx bevzip compress.`,
      '',
    ].join('\n'),
  );
  return 0;
}
