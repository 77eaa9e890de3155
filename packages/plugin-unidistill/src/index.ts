import { PLUGIN } from '@bevzip/ir';
import type { DependencyContainer } from 'tsyringe';
import { unidistill } from './plugin';
import type { UnidistillInput } from './options';

export { unidistill, addAdapters, graphModality, ADAPTER_VALUES } from './plugin';
export { unidistillOptions, resolveOptions, settingModalities, DEFAULT_WEIGHTS, LOW_LEVEL_TAPS, SETTINGS } from './options';
export type { UnidistillInput, UnidistillOptions, ResolvedOptions, Setting, Modality } from './options';
export { boxKeypoints, batchKeypoints, gaussianMask, mapCell, KEYPOINTS } from './keypoints';
export type { BatchKeypoints } from './keypoints';
export { featureLoss, relationLoss, relationMatrices, responseLoss, sampleBev } from './losses';

/** Registers the UniDistill distiller under `PLUGIN` (its stages need a frozen teacher). Nothing registers on import. */
export function register(container: DependencyContainer, options?: UnidistillInput): void {
  container.register(PLUGIN, { useValue: unidistill(options) });
}
