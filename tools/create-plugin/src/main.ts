import { runCli } from './cli';
import { CreatePluginError } from './names';

try {
  process.exitCode = runCli(process.argv.slice(2));
} catch (e) {
  if (e instanceof CreatePluginError) process.stderr.write(`create-plugin: ${e.message} [${e.code}]\n`);
  else process.stderr.write(`create-plugin: ${(e as Error).stack ?? e}\n`);
  process.exitCode = 1;
}
