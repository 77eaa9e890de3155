import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from './wasm-kernels/register-wasm-training-kernels';
import { BevzipError, ERROR_CODES } from '../errors';

/** A TensorFlow.js backend bevzip can train on. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** A backend name, or `auto` for the fastest one that loads. */
export type BackendChoice = BackendName | 'auto';

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** Backend to use; defaults to the `BEVZIP_BACKEND` environment variable, then `auto`. */
  backend?: BackendChoice;
  /** Do not print the chosen backend to stderr. */
  quiet?: boolean;
}

/** Order tried by `auto`. */
export const BACKEND_PRIORITY: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

const VALID_CHOICES: readonly BackendChoice[] = [...BACKEND_PRIORITY, 'auto'];

/** What {@link createBackendSelector} needs from the outside world; replaced in tests. */
export interface BackendSelectorDeps {
  requireModule: (id: string) => unknown;
  env: Record<string, string | undefined>;
  print: (line: string) => void;
}

/** Parses a backend name from an option or the environment; `source` names where it came from. */
export function parseBackendChoice(value: string, source: string): BackendChoice {
  const v = value.trim().toLowerCase();
  if ((VALID_CHOICES as readonly string[]).includes(v)) return v as BackendChoice;
  throw new BevzipError(ERROR_CODES.CONFIG, `${source}: unknown tfjs backend '${value}'; expected one of ${VALID_CHOICES.join(', ')}`);
}

function isMissingModule(err: unknown, id: string): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === 'MODULE_NOT_FOUND' && String(e.message).includes(`'${id}'`);
}

/**
 * Builds an `initBackend` over the given dependencies. The selector remembers the backends it
 * has initialised, so repeated calls are cheap, and prints each backend it switches to once.
 */
export function createBackendSelector(deps: BackendSelectorDeps) {
  const announced = new Set<BackendName>();

  // Loads the native TensorFlow binding; undefined when neither optional peer is installed.
  function loadTensorflow(): string | undefined {
    for (const id of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        deps.requireModule(id);
        return id;
      } catch (err) {
        if (!isMissingModule(err, id)) throw new Error(`${id} is installed but failed to load: ${(err as Error).message}`);
      }
    }
    return undefined;
  }

  async function tryBackend(name: BackendName): Promise<string | undefined> {
    let detail = '';
    if (name === 'tensorflow') {
      const id = loadTensorflow();
      if (id === undefined) return undefined;
      detail = id.endsWith('-gpu') ? 'native, GPU build' : 'native';
    } else if (name === 'wasm') {
      deps.requireModule('@tensorflow/tfjs-backend-wasm');
    }
    if (tf.findBackendFactory(name) === null) return undefined;
    if (tf.getBackend() !== name && !(await tf.setBackend(name))) return undefined;
    await tf.ready();
    if (name === 'wasm') {
      registerWasmTrainingKernels();
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      const threads = (deps.requireModule('@tensorflow/tfjs-backend-wasm') as { getThreadsCount(): number })
        .getThreadsCount();
      detail = `${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}`;
    }
    if (name === 'cpu') detail = 'reference kernels, slow';
    return detail;
  }

  return async function initBackend(options: InitBackendOptions = {}): Promise<BackendName> {
    const fromEnv = deps.env.BEVZIP_BACKEND;
    const choice =
      options.backend !== undefined
        ? parseBackendChoice(options.backend, 'initBackend option "backend"')
        : fromEnv !== undefined && fromEnv !== ''
          ? parseBackendChoice(fromEnv, 'environment variable BEVZIP_BACKEND')
          : 'auto';
    const candidates = choice === 'auto' ? BACKEND_PRIORITY : [choice];
    for (const name of candidates) {
      const detail = await tryBackend(name);
      if (detail === undefined) continue;
      if (!options.quiet && !announced.has(name)) deps.print(`bevzip: tfjs backend ${name} (${detail})`);
      announced.add(name);
      return name;
    }
    if (choice === 'tensorflow') {
      throw new BevzipError(
        ERROR_CODES.CONFIG,
        "tfjs backend 'tensorflow' requested but neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed",
      );
    }
    throw new BevzipError(ERROR_CODES.CONFIG, `tfjs backend '${choice}' could not be initialised`);
  };
}

/**
 * Chooses and initialises the TensorFlow.js backend: the `backend` option, else
 * `BEVZIP_BACKEND`, else `auto` (tensorflow → wasm → cpu). On wasm it registers the training
 * kernels bevzip adds. Prints `bevzip: tfjs backend <name> (<detail>)` to stderr once per
 * backend unless `quiet`. Safe to call repeatedly.
 *
 * @example
 * const name = await initBackend({ backend: 'wasm', quiet: true }); // 'wasm'
 */
export const initBackend: (options?: InitBackendOptions) => Promise<BackendName> = createBackendSelector({
  requireModule: (id) => require(id),
  env: process.env,
  print: (line) => process.stderr.write(`${line}\n`),
});
