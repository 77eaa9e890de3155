import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { loadPipelineFile } from '../pipeline/load-file';
import { instantiatePlugins, pluginLookup } from '../pipeline/plugins';
import { DEMO_PIPELINES } from './demo';

describe('demo pipelines', () => {
  it.each(Object.entries(DEMO_PIPELINES))('%s validates, with AlterMOMA pruning (and prune-kd) then QD-BEV QAT from the shipped teacher', (_, file) => {
    const loaded = loadPipelineFile(file);
    const { driver, stagePlugins } = instantiatePlugins(loaded.pipeline, pluginLookup(loaded.dir));
    const plugins = driver.registered;
    expect(loaded.pipeline.model).toBe('builtin:tiny-fusion');
    expect(plugins.map((p) => p.name)).toEqual(['altermoma', 'prune-kd', 'qdbev', 'qdbev-vgd']);
    expect(stagePlugins[0]).toEqual(['altermoma', 'prune-kd']);
  });

  it('quick differs from full only in budgets (steps, scenes, latency runs) and name', () => {
    const strip = (file: string) =>
      JSON.stringify(parse(fs.readFileSync(file, 'utf8')), (k, v) => (['steps', 'scenes', 'framesPerScene', 'valScenes', 'latencyRuns', 'name'].includes(k) && typeof v !== 'object' ? 0 : v));
    expect(strip(DEMO_PIPELINES.quick)).toEqual(strip(DEMO_PIPELINES.full));
    expect(path.basename(DEMO_PIPELINES.full)).toBe('full.yaml');
  });
});
