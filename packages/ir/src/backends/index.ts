export { initBackend, createBackendSelector, parseBackendChoice, BACKEND_PRIORITY } from './select-backend';
export type { BackendName, BackendChoice, InitBackendOptions, BackendSelectorDeps } from './select-backend';
export {
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
  wasmTrainingKernelConfigs,
} from './wasm-kernels/register-wasm-training-kernels';
export { batchNormPlain, batchNormTrain, type BatchNormTrainResult } from './batch-norm-plain';
export { benchConvKernels } from './kernel-bench';
export type { ConvBenchResult, ConvBenchShape, ConvBenchOptions } from './kernel-bench';
export { relativeError, seededUniform, computeOn } from './testing/compare-backends';
