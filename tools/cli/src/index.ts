export { createProgram } from './program';
export { benchKernels, type KernelBenchReport } from './bench/kernels';
