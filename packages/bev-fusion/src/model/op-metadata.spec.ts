import { channelRuleOf, getOp, listOps, opMetadataProblems } from '@bevzip/ir';
import * as bevFusion from '../index';
import { buildBevFusion } from './build';
import { BEV_FUSION_CONFIGS, MODALITIES } from './config';

describe('ops of the BEVFusion models', () => {
  // Every config and modality: the op set a compression plugin meets in this package's models.
  const graphs = Object.values(BEV_FUSION_CONFIGS).flatMap((config) => MODALITIES.map((m) => buildBevFusion(config, m)));
  const used = [...new Set(graphs.flatMap((g) => g.nodes.map((n) => n.op)))].sort();

  it('declare their metadata in full, as does every op registered once the package is loaded', () => {
    expect(Object.keys(bevFusion).length).toBeGreaterThan(0);
    expect(used.length).toBeGreaterThan(5);
    for (const op of used) expect(listOps()).toContain(op);
    const problems = listOps().flatMap((name) => opMetadataProblems(getOp(name)).map((p) => `${name}: ${p}`));
    expect(problems).toEqual([]);
  });

  it('resolve a channel rule for every node', () => {
    for (const g of graphs) {
      for (const node of g.nodes) {
        expect(['produce', 'through', 'unify', 'concat', 'opaque']).toContain(channelRuleOf(node).kind);
      }
    }
  });
});
