import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels, wasmTrainingKernelConfigs } from './register-wasm-training-kernels';

describe('registerWasmTrainingKernels', () => {
  it('registers nothing on import, registers every kernel once, and restores the built-in one', () => {
    // The shared jest setup has already initialised the backend; start from stock tfjs.
    unregisterWasmTrainingKernels();
    jest.isolateModules(() => require('./register-wasm-training-kernels'));
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')).toBeUndefined();
    const builtIn = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');
    expect(builtIn).toBeDefined();

    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      expect(registerWasmTrainingKernels()).toEqual([
        'Conv2DBackpropFilter',
        'Conv2DBackpropInput',
        'DepthwiseConv2dNativeBackpropFilter',
        'DepthwiseConv2dNativeBackpropInput',
        'UnsortedSegmentSum',
        'GatherV2',
        'Sum',
        'Mean',
        'Multiply',
        'Add',
        'Sub',
        'Identity',
        'Cast',
        'Max',
        'Slice',
        'SplitV',
      ]);
      registerWasmTrainingKernels();
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
    for (const config of wasmTrainingKernelConfigs) {
      expect(tf.getKernel(config.kernelName, 'wasm')?.kernelFunc).toBe(config.kernelFunc);
    }

    unregisterWasmTrainingKernels();
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')).toBeUndefined();
    expect(tf.getKernel(tf.Conv2DBackpropInput, 'wasm')).toBe(builtIn);
    registerWasmTrainingKernels();
  });
});
