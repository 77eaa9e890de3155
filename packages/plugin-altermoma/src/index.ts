import { PLUGIN, pluginRegister, type NamedPlugins } from '@bevzip/ir';
import type { DependencyContainer } from 'tsyringe';
import { alterMoma, headDistill, impPrune, magnitudePrune, snipPrune, synflowPrune } from './plugin';
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

/**
 * Every plugin of the package by the name a pipeline entry gives as `plugin` (the same names as
 * package.json `bevzip.plugins`, which `bevzip plugins` lists without loading the package).
 *
 * @example
 * // AlterMOMA 80% with distillation from the dense teacher during the fine-tune, in one stage:
 * plugins.altermoma(container, { sparsity: 0.8 });
 * plugins['prune-kd'](container, { gradientShare: 0.5 });
 */
export const plugins = {
  altermoma: register,
  magnitude: pluginRegister(magnitudePrune),
  snip: pluginRegister(snipPrune),
  synflow: pluginRegister(synflowPrune),
  imp: pluginRegister(impPrune),
  'prune-kd': pluginRegister(headDistill),
} as const satisfies NamedPlugins;
