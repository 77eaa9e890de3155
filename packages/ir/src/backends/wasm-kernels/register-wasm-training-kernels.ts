import * as tf from '@tensorflow/tfjs';
import { addChannelConfig, multiplyChannelConfig, subChannelConfig } from './channel-broadcast-binary';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input';
import { depthwiseConv2dBackpropFilterConfig } from './depthwise-conv2d-backprop-filter';
import { depthwiseConv2dBackpropInputConfig } from './depthwise-conv2d-backprop-input';
import { gatherV2Config } from './gather-v2';
import { maxInnerConfig } from './inner-axis-max';
import { castShareConfig, identityShareConfig } from './shared-identity';
import { sliceViewConfig, splitVViewConfig } from './slice-view';
import { builtInWasmKernels, meanLeadingConfig, sumLeadingConfig } from './leading-axis-reduce';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum';

/** The kernels bevzip adds to (or replaces in) tfjs-backend-wasm for training. */
export const wasmTrainingKernelConfigs: readonly tf.KernelConfig[] = [
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  depthwiseConv2dBackpropFilterConfig,
  depthwiseConv2dBackpropInputConfig,
  unsortedSegmentSumConfig,
  gatherV2Config,
  sumLeadingConfig,
  meanLeadingConfig,
  multiplyChannelConfig,
  addChannelConfig,
  subChannelConfig,
  identityShareConfig,
  castShareConfig,
  maxInnerConfig,
  sliceViewConfig,
  splitVViewConfig,
];

/**
 * Registers the wasm training kernels. Idempotent; a built-in kernel of the same name
 * (`Conv2DBackpropInput`, `GatherV2`, `Sum`, `Mean`, `Multiply`, `Add`, `Sub`, `Identity`, `Cast`, `Max`, `Slice`, `SplitV`) is unregistered first and remembered. Returns the kernel names.
 */
export function registerWasmTrainingKernels(): string[] {
  for (const config of wasmTrainingKernelConfigs) {
    const current = tf.getKernel(config.kernelName, 'wasm');
    if (current?.kernelFunc === config.kernelFunc) continue;
    if (current !== undefined) {
      builtInWasmKernels.set(config.kernelName, current);
      // registerKernel would overwrite too, but logs a warning on every process start.
      tf.unregisterKernel(config.kernelName, 'wasm');
    }
    tf.registerKernel(config);
  }
  return wasmTrainingKernelConfigs.map((c) => c.kernelName);
}

/** Removes the kernels {@link registerWasmTrainingKernels} added and restores replaced ones. */
export function unregisterWasmTrainingKernels(): void {
  for (const config of wasmTrainingKernelConfigs) {
    if (tf.getKernel(config.kernelName, 'wasm')?.kernelFunc !== config.kernelFunc) continue;
    tf.unregisterKernel(config.kernelName, 'wasm');
    const original = builtInWasmKernels.get(config.kernelName);
    if (original !== undefined) tf.registerKernel(original);
    builtInWasmKernels.delete(config.kernelName);
  }
}
