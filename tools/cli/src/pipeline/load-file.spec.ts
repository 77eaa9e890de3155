import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadPipelineFile, parsePipelineText } from './load-file';

const VALID = `
seed: 3
model: { builder: bev-fusion, config: micro }
teacher: model
data:
  synthetic: { seed: 0, scenes: 2 }
stages:
  - name: prune
    steps: 0
    plugins:
      - use: some-plugin
        options: { sparsity: 0.5 }
  - name: finetune
    steps: 4
`;

function errorOf(text: string, file = 'p.yaml'): string {
  try {
    parsePipelineText(text, file);
  } catch (e) {
    expect(e).toMatchObject({ code: 'E_CONFIG' });
    return (e as Error).message;
  }
  throw new Error('expected the pipeline to be rejected');
}

describe('pipeline file schema', () => {
  it('fills in the documented defaults of a valid file', () => {
    const p = parsePipelineText(VALID, 'p.yaml');
    expect(p.model).toEqual({ builder: 'bev-fusion', config: 'micro', modality: 'fusion' });
    expect(p.data).toEqual({ synthetic: { seed: 0, scenes: 2, framesPerScene: 3, valScenes: 1 }, batchSize: 1 });
    expect(p.stages[0].plugins).toEqual([{ use: 'some-plugin', options: { sparsity: 0.5 } }]);
    expect(p.stages[1].plugins).toEqual([]);
    expect(p.training).toEqual({ optimizer: { kind: 'adamw', lr: 1e-3, weightDecay: 0.01 }, schedule: 'cosine', clipNorm: 35, checkpointEvery: 50, termGradientEvery: 0 });
    expect(p.export).toEqual({ onnx: true, evaluate: true, latencyRuns: 20, report: true, fixedRig: false });
  });

  it('accepts a checkpoint reference as a bare string and as { checkpoint }', () => {
    const a = parsePipelineText(VALID.replace('model: { builder: bev-fusion, config: micro }', 'model: builtin:tiny-fusion'), 'p.yaml');
    const b = parsePipelineText(VALID.replace('model: { builder: bev-fusion, config: micro }', 'model: { checkpoint: ./runs/dense }'), 'p.yaml');
    expect(a.model).toBe('builtin:tiny-fusion');
    expect(b.model).toEqual({ checkpoint: './runs/dense' });
  });

  it('names the file, YAML line and column, the field path and what was expected for a wrong type', () => {
    const msg = errorOf(VALID.replace('steps: 4', 'steps: four'));
    expect(msg).toContain('p.yaml:14:12: stages[1].steps: expected number, received string');
  });

  it('reports the branch of a union the user meant rather than the union summary', () => {
    expect(errorOf(VALID.replace('scenes: 2', 'scenes: -1'))).toMatch(/p\.yaml:6:\d+: data\.synthetic\.scenes: Too small: expected number to be >=1/);
    expect(errorOf(VALID.replace('config: micro', 'config: huge'))).toMatch(/p\.yaml:3:\d+: model\.config: expected one of "micro"\|"tiny"\|"small"/);
    expect(errorOf(VALID.replace('synthetic: { seed: 0, scenes: 2 }', 'synth: {}'))).toContain("p.yaml:6:3: data: expected { synthetic: { seed, scenes } } or { nuscenes: { root, version } }");
  });

  it('points at an unknown field by its own line', () => {
    const msg = errorOf(VALID.replace('    steps: 0\n', '    steps: 0\n    stpes: 1\n'));
    expect(msg).toContain("p.yaml:10:5: stages[0].stpes: unknown field 'stpes'");
  });

  it('reports every problem at once, and a duplicated stage name', () => {
    const msg = errorOf(VALID.replace('  - name: finetune\n    steps: 4', '  - name: tune\n    plugins: 3').replace('seed: 3', 'seed: -1'));
    expect(msg.split('\n').slice(1)).toEqual([
      '  p.yaml:2:7: seed: Too small: expected number to be >=0',
      '  p.yaml:13:5: stages[1].steps: expected number, received undefined',
      '  p.yaml:14:14: stages[1].plugins: expected array, received number',
    ]);
    expect(errorOf(VALID.replace('name: finetune', 'name: prune'))).toContain("p.yaml:13:11: stages[1].name: expected a unique stage name; 'prune' is used twice");
  });

  it('reports YAML syntax errors with their line', () => {
    expect(errorOf('model: [unclosed\nstages: 1\n')).toMatch(/^invalid pipeline file:\n {2}p\.yaml:\d+:\d+: /);
  });

  it('reads JSON files and rejects other extensions and missing files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-pipeline-'));
    try {
      const json = path.join(dir, 'p.json');
      const obj = parsePipelineText(VALID, 'p.yaml');
      fs.writeFileSync(json, JSON.stringify({ ...obj, seed: 'x' }, null, 2));
      expect(() => loadPipelineFile(json)).toThrow(`${json}:2:11: seed: expected number, received string`);
      fs.writeFileSync(json, JSON.stringify(obj));
      expect(loadPipelineFile(json).pipeline).toEqual(obj);
      fs.writeFileSync(json, '{ "seed": 1, }');
      expect(() => loadPipelineFile(json)).toThrow(/invalid pipeline file:\n {2}.*p\.json:1:14: not valid JSON \(property name expected\)/);
      fs.writeFileSync(path.join(dir, 'p.toml'), '');
      expect(() => loadPipelineFile(path.join(dir, 'p.toml'))).toThrow('expected a .json, .yaml or .yml file');
      expect(() => loadPipelineFile(path.join(dir, 'none.yaml'))).toThrow('no such file');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
