import * as fs from 'node:fs';
import * as path from 'node:path';

/** How to start the batch worker from where this module runs. */
export interface WorkerEntry {
  /** Script the Worker runs. */
  file: string;
  /** The TypeScript entry the loader script compiles and runs (source mode only). */
  entry?: string;
  execArgv?: string[];
}

/**
 * Built packages run `batch-worker.js` beside this file. From TypeScript sources (jest, or any
 * runner that compiles on the fly) there is no .js to run and a worker does not inherit the parent's
 * compiler, so the worker starts `ts-hook.js`, which registers @swc/core for `.ts` and loads
 * `batch-worker.ts`; workspace packages then resolve to their sources via the `@bevzip/source`
 * export condition, as they do under jest.
 */
export function batchWorkerEntry(dir: string = __dirname): WorkerEntry {
  const compiled = path.join(dir, 'batch-worker.js');
  if (fs.existsSync(compiled)) return { file: compiled };
  return {
    file: path.join(dir, 'ts-hook.js'),
    entry: path.join(dir, 'batch-worker.ts'),
    execArgv: ['--conditions=@bevzip/source'],
  };
}
