import { BevzipError } from '@bevzip/ir';
import { createProgram } from './program';

createProgram()
  .parseAsync(process.argv)
  .catch((e: unknown) => {
    if (e instanceof BevzipError) {
      process.stderr.write(`bevzip: ${e.message} [${e.code}]\n`);
    } else {
      process.stderr.write(`bevzip: ${(e as Error).stack ?? e}\n`);
    }
    process.exitCode = 1;
  });
