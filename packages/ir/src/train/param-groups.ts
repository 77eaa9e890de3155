import { matchesSelector, type Graph, type ParamDef } from '../graph';
import type { OptimizerConfig, ParamGroup } from './optimizer';

/** How one param is updated, after applying its group. */
export interface ParamSettings {
  def: ParamDef;
  /** Multiplies the scheduled learning rate. */
  lrScale: number;
  weightDecay: number;
  /** false for frozen groups and non-trainable params (state such as running statistics). */
  update: boolean;
  /** Index of the matching group in `config.groups`, or -1 for the defaults. */
  group: number;
}

/** The default weight decay of each optimizer kind, as in PyTorch. */
export function defaultWeightDecay(config: Pick<OptimizerConfig, 'kind' | 'weightDecay'>): number {
  return config.weightDecay ?? (config.kind === 'adamw' ? 0.01 : 0);
}

function groupMatches(group: ParamGroup, def: ParamDef): boolean {
  const sel = group.selector;
  if (sel === undefined) return true;
  return typeof sel === 'function' ? sel(def.name, def) : matchesSelector(def, sel);
}

/**
 * Resolves every param of the graph to its settings. The first matching group wins, so list narrow
 * selectors before broad ones; a group without a selector matches everything.
 */
export function resolveParamSettings(config: OptimizerConfig, graph: Graph): Map<string, ParamSettings> {
  const out = new Map<string, ParamSettings>();
  const groups = config.groups ?? [];
  const wd = defaultWeightDecay(config);
  for (const def of graph.params) {
    const index = groups.findIndex((g) => groupMatches(g, def));
    const group: ParamGroup = index >= 0 ? groups[index] : {};
    out.set(def.name, {
      def,
      lrScale: group.lr ?? 1,
      weightDecay: group.weightDecay ?? wd,
      update: def.trainable && def.dtype === 'float32' && !group.frozen,
      group: index,
    });
  }
  return out;
}
