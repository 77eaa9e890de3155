import { PLUGIN } from '@bevzip/ir';
import type { DependencyContainer } from 'tsyringe';
import { x3kd } from './plugin';
import type { X3kdInput } from './options';

export { x3kd, addModules } from './plugin';
export { x3kdOptions } from './options';
export type { X3kdInput, X3kdOptions } from './options';
export { activationMap, adversarialLoss, bceWithLogits, discLogits, featureLoss, gaussianFocalLoss, generatorLoss, instanceLoss, smoothL1, weightedBoxLoss } from './losses';
export { MODULE_VALUES, TRAIN_ONLY_TAGS, discriminator, fdDecoder, isHead } from './modules';
export { boxCorners, boxesFromTargets, convexHull, instanceTargets, projectPoint, pseudoLabels } from './targets';
export type { InstanceTargets, PseudoLabels, TargetBox } from './targets';

/** Registers the X3KD distiller under `PLUGIN` (it needs a teacher with a LiDAR branch in the stages it is active in). Nothing registers on import. */
export function register(container: DependencyContainer, options?: X3kdInput): void {
  container.register(PLUGIN, { useValue: x3kd(options) });
}
