import { Command } from 'commander';
import { registerBench } from './commands/bench';
import { registerDemo } from './commands/demo';
import { registerCompress } from './commands/compress';
import { registerEval } from './commands/eval';
import { registerExport } from './commands/export';
import { registerPlugins } from './commands/plugins';
import { registerReport } from './commands/report';
import { registerTrain } from './commands/train';

const { version } = require('../package.json') as { version: string };

/** The `bevzip` command tree; each command lives in `commands/`. */
export function createProgram(): Command {
  const program = new Command('bevzip')
    .description('Compress camera–LiDAR BEV perception models: pruning, quantization, distillation.')
    .version(version, '-v, --version')
    .showHelpAfterError('(run with --help for usage)');
  registerDemo(program);
  registerBench(program);
  registerPlugins(program);
  registerTrain(program);
  registerEval(program);
  registerCompress(program);
  registerReport(program);
  registerExport(program);
  return program;
}
