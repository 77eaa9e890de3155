import { BevzipError, ERROR_CODES, matchesSelector, type Graph, type ParamDef } from '@bevzip/ir';
import { GROUP_NAMES, type GroupName, type PruningOptions } from './options';

/** Which params are pruned and which group each belongs to. */
export interface GroupPlan {
  /** Prunable params in graph order. */
  prunable: ParamDef[];
  /** Group of each prunable param. */
  groupOf: Map<string, GroupName>;
  /** Every param (any role) of each group: what modality masking zeroes. */
  members: Record<GroupName, string[]>;
}

/** The group a param or node belongs to: the first selector it matches, in camera, LiDAR, fusion order. */
export function groupOfItem(
  item: { scope: string; tags: ParamDef['tags'] },
  groups: PruningOptions['groups'],
): GroupName | undefined {
  return GROUP_NAMES.find((g) => matchesSelector(item, groups[g]));
}

/** Whether a param may be pruned: conv/dense kernels (rank ≥ 2), and biases or norm params when enabled. */
export function isPrunable(p: ParamDef, prunable: PruningOptions['prunable']): boolean {
  if (!p.trainable || p.dtype !== 'float32') return false;
  if (p.role === 'weight') return p.shape.length >= 2;
  if (p.role === 'bias') return prunable.biases;
  if (p.role === 'norm') return prunable.norms;
  return false;
}

/**
 * Assigns params to the camera, LiDAR and fusion groups by the options' tag selectors.
 * @throws BevzipError (E_CONFIG) when no prunable param matches any group.
 */
export function planGroups(graph: Graph, options: Pick<PruningOptions, 'groups' | 'prunable'>): GroupPlan {
  const members: Record<GroupName, string[]> = { camera: [], lidar: [], fusion: [] };
  const groupOf = new Map<string, GroupName>();
  const prunable: ParamDef[] = [];
  for (const p of graph.params) {
    const g = groupOfItem(p, options.groups);
    if (!g) continue;
    if (p.role !== 'state') members[g].push(p.name);
    if (isPrunable(p, options.prunable)) {
      prunable.push(p);
      groupOf.set(p.name, g);
    }
  }
  if (prunable.length === 0) {
    throw new BevzipError(
      ERROR_CODES.CONFIG,
      `graph '${graph.name}' has no prunable param in the groups ${JSON.stringify(options.groups)} (prunable: conv/dense weights${options.prunable.biases ? ', biases' : ''}${options.prunable.norms ? ', norms' : ''})`,
    );
  }
  return { prunable, groupOf, members };
}
