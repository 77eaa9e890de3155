import { PLUGIN } from '@bevzip/ir';
import type { DependencyContainer } from 'tsyringe';
import { alterMoma } from './plugin';
import type { AlterMomaInput } from './options';

export { alterMoma, headDistill, impPrune, magnitudePrune, snipPrune, synflowPrune, PRUNING_CRITERIA } from './plugin';
export { impDensities, impKeepCount, impStages } from './imp';
export { constantTarget, sigmoidMse } from './distill';
export type { CriterionName, CriterionOptions } from './plugin';
export { alterEva, alterMomaScores } from './altermoma';
export type { AlterEvaInput, UnitScores } from './altermoma';
export { magnitudeScores, snipScores, synflowScores } from './baselines';
export { planGroups, groupOfItem, isPrunable } from './groups';
export type { GroupPlan } from './groups';
export { channelLayers, channelMasks, removePrunedChannels } from './structured';
export type { ChannelLayer } from './structured';
export { globalTopK, keepCount, l1Normalize } from './threshold';
export { taylorUnits, magnitudeUnits, unitMaskShape } from './units';
export {
  DEFAULT_GROUPS,
  GROUP_NAMES,
  alterMomaOptionsSchema,
  headDistillOptionsSchema,
  impOptionsSchema,
  pruningOptionsSchema,
  synflowOptionsSchema,
  tagSelectorSchema,
} from './options';
export type { AlterMomaInput, AlterMomaOptions, GroupName, HeadDistillOptions, ImpOptions, PruningOptions, SynflowOptions } from './options';

/**
 * Registers AlterMOMA under the runtime's `PLUGIN` token. Nothing is registered on import.
 *
 * @example
 * register(container, { sparsity: 0.8 });
 * const pipeline = new Pipeline(config, container);
 */
export function register(container: DependencyContainer, options?: AlterMomaInput): void {
  container.register(PLUGIN, { useValue: alterMoma(options) });
}
