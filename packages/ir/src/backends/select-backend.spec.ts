import * as tf from '@tensorflow/tfjs';
import { BackendSelectorDeps, createBackendSelector, initBackend, parseBackendChoice } from './select-backend';

function missing(id: string): Error {
  return Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
}

// Like the real loader on this machine: the native bindings are absent, wasm is present.
function fakeDeps(env: Record<string, string> = {}, native?: () => void) {
  const printed: string[] = [];
  const deps: BackendSelectorDeps = {
    env,
    print: (line) => printed.push(line),
    requireModule: (id) => {
      if (id.startsWith('@tensorflow/tfjs-node')) {
        if (native !== undefined && id === '@tensorflow/tfjs-node') return native();
        throw missing(id);
      }
      return require(id);
    },
  };
  return { deps, printed };
}

describe('initBackend', () => {
  afterEach(async () => {
    await tf.setBackend('wasm');
  });

  it('chooses wasm automatically when no native binding is installed, and says so once', async () => {
    const { deps, printed } = fakeDeps();
    const init = createBackendSelector(deps);
    expect(await init()).toBe('wasm');
    expect(await init()).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(printed).toEqual([expect.stringMatching(/^bevzip: tfjs backend wasm \((no )?SIMD, \d+ threads?\)$/)]);
  });

  it('registers the wasm training kernels when it selects wasm', async () => {
    await createBackendSelector(fakeDeps().deps)({ quiet: true });
    for (const name of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'UnsortedSegmentSum']) {
      expect(tf.getKernel(name, 'wasm')).toBeDefined();
    }
  });

  it('prefers the native tensorflow backend when its package loads', async () => {
    const cpuFactory = tf.findBackendFactory('cpu');
    const { deps, printed } = fakeDeps({}, () => tf.registerBackend('tensorflow', cpuFactory!));
    try {
      expect(await createBackendSelector(deps)()).toBe('tensorflow');
      expect(printed).toEqual(['bevzip: tfjs backend tensorflow (native)']);
    } finally {
      tf.removeBackend('tensorflow');
    }
  });

  it('takes BEVZIP_BACKEND when no option is given, and the option over it', async () => {
    const { deps, printed } = fakeDeps({ BEVZIP_BACKEND: 'CPU' });
    const init = createBackendSelector(deps);
    expect(await init()).toBe('cpu');
    expect(await init({ backend: 'wasm', quiet: true })).toBe('wasm');
    expect(printed).toEqual(['bevzip: tfjs backend cpu (reference kernels, slow)']);
  });

  it('fails clearly when tensorflow is requested but not installed', async () => {
    const init = createBackendSelector(fakeDeps().deps);
    await expect(init({ backend: 'tensorflow' })).rejects.toThrow(
      /neither @tensorflow\/tfjs-node-gpu nor @tensorflow\/tfjs-node is installed/,
    );
  });

  it('reports a native binding that is installed but broken instead of hiding it', async () => {
    const { deps } = fakeDeps({}, () => {
      throw new Error('libtensorflow.so: cannot open shared object file');
    });
    await expect(createBackendSelector(deps)()).rejects.toThrow(/@tensorflow\/tfjs-node is installed but failed to load: libtensorflow/);
  });

  it('rejects unknown names, saying where the name came from and listing the valid ones', async () => {
    await expect(initBackend({ backend: 'webgpu' as never })).rejects.toThrow(
      `initBackend option "backend": unknown tfjs backend 'webgpu'; expected one of tensorflow, wasm, cpu, auto`,
    );
    const init = createBackendSelector(fakeDeps({ BEVZIP_BACKEND: 'gpu' }).deps);
    await expect(init()).rejects.toThrow(/environment variable BEVZIP_BACKEND: unknown tfjs backend 'gpu'/);
    expect(parseBackendChoice(' Auto ', 'test')).toBe('auto');
  });

  it('works through the real module loader', async () => {
    const before = process.env.BEVZIP_BACKEND;
    delete process.env.BEVZIP_BACKEND;
    try {
      // 'tensorflow' only where a native binding is installed; this machine has none.
      expect(await initBackend({ quiet: true })).toMatch(/^(tensorflow|wasm)$/);
    } finally {
      if (before !== undefined) process.env.BEVZIP_BACKEND = before;
    }
  });
});
