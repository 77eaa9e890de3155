import { BevzipError, ERROR_CODES } from '@bevzip/ir';
import { createProgram } from './program';

createProgram()
  .parseAsync(process.argv)
  .catch((e: unknown) => {
    if (e instanceof BevzipError) {
      process.stderr.write(`bevzip: ${e.message} [${e.code}]\n`);
    } else {
      process.stderr.write(`bevzip: ${(e as Error).stack ?? e}\n`);
    }
    // 130 as a shell reports a run stopped by SIGINT; it left a checkpoint to resume from.
    process.exitCode = e instanceof BevzipError && e.code === ERROR_CODES.INTERRUPTED ? 130 : 1;
  });
