import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CommanderError } from 'commander';
import { BevzipError, ERROR_CODES, ParamStore, saveGraph } from '@bevzip/ir';
import { buildBevFusion, MICRO_CONFIG } from '@bevzip/bev-fusion';
import { writeNuScenes } from '@bevzip/driving-data';
import { generateScene } from '@bevzip/synthetic-scenes';
import { createProgram } from './program';
import { LOCK_FILE } from './pipeline/out-dir';
import { runCompress } from './pipeline/run';

/**
 * One row a bad input: what the user gives, the error code and a phrase of the message they must
 * get, and the files that must be byte-for-byte unchanged afterwards. `$D` in arguments and file
 * contents is the row's own folder.
 */
interface Row {
  name: string;
  files?: Record<string, string | Buffer | ((d: string) => void)>;
  argv: string[];
  env?: Record<string, string>;
  code: string;
  phrase: RegExp;
  unchanged?: string[];
}

const MICRO = `model: { builder: bev-fusion, config: micro }\ndata: { synthetic: { seed: 0, scenes: 1, framesPerScene: 2, valScenes: 1 } }\n`;
const stage = (plugins = '[]', steps = '1') => `stages:\n  - { name: s, steps: ${steps}, plugins: ${plugins} }\n`;
const pipelineYaml = (extra = '') => MICRO + stage() + extra;
const compress = (file = 'p.yaml', ...more: string[]) => ['compress', '-p', `$D/${file}`, '--out', '$D/out', ...more];

/** A micro model folder (graph.json, weights.bin, manifest.json) written into `dir`, optionally damaged. */
function modelDir(damage?: (dir: string) => void, at = 'model') {
  return (d: string) => {
    const dir = path.join(d, at);
    const graph = buildBevFusion(MICRO_CONFIG, 'fusion');
    const params = ParamStore.init(graph, 0);
    saveGraph(dir, graph, params);
    params.dispose();
    damage?.(dir);
  };
}
const editGraphJson = (dir: string, edit: (doc: { weights: { file: string } }) => void, dropManifest = true) => {
  const file = path.join(dir, 'graph.json');
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(doc);
  fs.writeFileSync(file, JSON.stringify(doc));
  if (dropManifest) fs.rmSync(path.join(dir, 'manifest.json'));
};
const modelPipeline = (field: 'model' | 'teacher') =>
  field === 'model' ? `model: model\ndata: { synthetic: { seed: 0, scenes: 1, framesPerScene: 2, valScenes: 1 } }\n${stage()}` : pipelineYaml(`teacher: ./model\n`);

const NUSC = 'v1.0-synth';
let pristineNuScenes: string | undefined;
/** A valid two-scene nuScenes-format copy at `$D/ns` (written once, then copied), optionally damaged. */
function nuScenesRoot(damage?: (versionDir: string) => void, scenes = 2) {
  return (d: string) => {
    const root = path.join(d, 'ns');
    if (scenes !== 2) {
      writeNuScenes(generateScene({ seed: 0, sceneIndex: 0, frames: 2 }), root, NUSC);
    } else {
      if (!pristineNuScenes) {
        pristineNuScenes = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-bad-nusc-'));
        const frames = [0, 1].flatMap((i) => generateScene({ seed: 0, sceneIndex: i, frames: 2 }));
        writeNuScenes(frames, path.join(pristineNuScenes, 'ns'), NUSC);
      }
      fs.cpSync(path.join(pristineNuScenes, 'ns'), root, { recursive: true });
    }
    damage?.(path.join(root, NUSC));
  };
}
const editTable = (versionDir: string, table: string, edit: (records: Record<string, unknown>[]) => void) => {
  const file = path.join(versionDir, `${table}.json`);
  const records = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(records);
  fs.writeFileSync(file, JSON.stringify(records));
};
const nuScenesPipeline = `model: { builder: bev-fusion, config: micro }\ndata: { nuscenes: { root: ns, version: ${NUSC} } }\n${stage()}`;
const train = (...more: string[]) => ['train', '--model', 'micro', '--steps', '1', '--train-scenes', '1', '--val-scenes', '1', '--out', '$D/m', ...more];

const ROWS: Row[] = [
  // Pipeline files
  { name: 'pipeline file missing', argv: compress('nope.yaml'), code: ERROR_CODES.CONFIG, phrase: /nope\.yaml: no such file/ },
  { name: 'pipeline file of another type', files: { 'p.txt': pipelineYaml() }, argv: compress('p.txt'), code: ERROR_CODES.CONFIG, phrase: /expected a \.json, \.yaml or \.yml file/ },
  { name: 'YAML syntax error', files: { 'p.yaml': 'model: { builder: bev-fusion\nstages: [' }, argv: compress(), code: ERROR_CODES.CONFIG, phrase: /p\.yaml:\d+:\d+/ },
  { name: 'JSON syntax error, with line and column', files: { 'p.json': '{\n  "model": "builtin:tiny-fusion",\n  "stages" []\n}' }, argv: compress('p.json'), code: ERROR_CODES.CONFIG, phrase: /p\.json:3:12: not valid JSON/ },
  {
    name: 'JSON with a UTF-8 BOM is read (its real error is reported)',
    files: { 'p.json': '\ufeff' + JSON.stringify({ model: { builder: 'bev-fusion', config: 'micro' }, data: { synthetic: { seed: 0, scenes: 1 } }, stages: [{ name: 's', steps: 'ten' }] }, null, 2) },
    argv: compress('p.json'),
    code: ERROR_CODES.CONFIG,
    phrase: /p\.json:\d+:\d+: stages\[0\]\.steps: .*number/,
  },
  { name: 'stages missing', files: { 'p.yaml': MICRO }, argv: compress(), code: ERROR_CODES.CONFIG, phrase: /stages/ },
  { name: 'steps not a number', files: { 'p.yaml': MICRO + stage('[]', 'ten') }, argv: compress(), code: ERROR_CODES.CONFIG, phrase: /p\.yaml:4:\d+: stages\[0\]\.steps/ },
  { name: 'negative steps', files: { 'p.yaml': MICRO + stage('[]', '-3') }, argv: compress(), code: ERROR_CODES.CONFIG, phrase: /stages\[0\]\.steps/ },
  { name: 'unknown top-level field', files: { 'p.yaml': pipelineYaml('sede: 3\n') }, argv: compress(), code: ERROR_CODES.CONFIG, phrase: /sede/ },
  { name: 'unknown model config', files: { 'p.yaml': `model: { builder: bev-fusion, config: huge }\n${MICRO.split('\n')[1]}\n${stage()}` }, argv: compress(), code: ERROR_CODES.CONFIG, phrase: /model/ },
  { name: 'no synthetic scenes', files: { 'p.yaml': `model: { builder: bev-fusion, config: micro }\ndata: { synthetic: { seed: 0, scenes: 0 } }\n${stage()}` }, argv: compress(), code: ERROR_CODES.CONFIG, phrase: /data/ },
  // Plugins
  { name: 'use: a relative path', files: { 'p.yaml': MICRO + stage('[{ use: ./evil.js }]'), 'evil.js': `require('fs').writeFileSync('$D/MARKER', 'ran')` }, argv: compress(), code: ERROR_CODES.CONFIG, phrase: /evil\.js/, unchanged: ['evil.js'] },
  { name: 'use: an absolute path', files: { 'p.yaml': MICRO + stage('[{ use: /tmp/evil.js }]') }, argv: compress(), code: ERROR_CODES.CONFIG, phrase: /\/tmp\/evil\.js/ },
  { name: 'use: a plugin that is not installed', files: { 'p.yaml': MICRO + stage('[{ use: "@acme/bevzip-plugin-nothing" }]') }, argv: compress(), code: ERROR_CODES.CONFIG, phrase: /npm install '@acme\/bevzip-plugin-nothing'/ },
  { name: 'use: a typo of an installed plugin', files: { 'p.yaml': MICRO + stage('[{ use: "@bevzip/plugin-altermomma" }]') }, argv: compress(), code: ERROR_CODES.CONFIG, phrase: /did you mean '@bevzip\/plugin-altermoma'/ },
  { name: 'plugin option out of range', files: { 'p.yaml': MICRO + stage('[{ use: "@bevzip/plugin-altermoma", options: { sparsity: 2 } }]') }, argv: compress(), code: ERROR_CODES.PLUGIN_OPTIONS, phrase: /sparsity/ },
  { name: 'plugin option of the wrong type', files: { 'p.yaml': MICRO + stage('[{ use: "@bevzip/plugin-qdbev", options: { quantize: { wBits: eight } } }]') }, argv: compress(), code: ERROR_CODES.PLUGIN_OPTIONS, phrase: /wBits/ },
  { name: '--plugin-dev folder without a package.json', files: { 'p.yaml': pipelineYaml(), 'dev/index.js': '' }, argv: [...compress(), '--plugin-dev', '$D/dev'], code: ERROR_CODES.PLUGIN_PACKAGE, phrase: /package\.json/ },
  // Model folders and references
  { name: 'model folder missing', files: { 'p.yaml': modelPipeline('model') }, argv: compress(), code: ERROR_CODES.CHECKPOINT, phrase: /model: checkpoint 'model'/ },
  { name: 'unknown builtin teacher', files: { 'p.yaml': pipelineYaml('teacher: builtin:tiny-giant\n') }, argv: compress(), code: ERROR_CODES.CHECKPOINT, phrase: /unknown builtin checkpoint 'builtin:tiny-giant'/ },
  { name: 'model folder without graph.json', files: { 'p.yaml': modelPipeline('model'), 'model/weights.bin': 'x' }, argv: compress(), code: ERROR_CODES.CHECKPOINT, phrase: /graph\.json/ },
  {
    name: 'model weights corrupted (same size)',
    files: { model: modelDir((dir) => { const b = fs.readFileSync(path.join(dir, 'weights.bin')); b[100] ^= 1; fs.writeFileSync(path.join(dir, 'weights.bin'), b); }), 'p.yaml': modelPipeline('model') },
    argv: compress(),
    code: ERROR_CODES.CHECKPOINT,
    phrase: /model: .*weights\.bin: SHA-256 .* the file is corrupted/,
    unchanged: ['model/weights.bin'],
  },
  { name: 'model weights truncated (old folder, no manifest)', files: { model: modelDir((dir) => { fs.rmSync(path.join(dir, 'manifest.json')); fs.truncateSync(path.join(dir, 'weights.bin'), 64); }), 'p.yaml': modelPipeline('model') }, argv: compress(), code: ERROR_CODES.WEIGHTS_FILE, phrase: /weights\.bin: is 64 bytes/ },
  { name: 'graph.json edited after the manifest', files: { model: modelDir((dir) => editGraphJson(dir, (doc) => Object.assign(doc, { note: 1 }), false)), 'p.yaml': modelPipeline('teacher') }, argv: compress(), code: ERROR_CODES.CHECKPOINT, phrase: /teacher: .*graph\.json: is \d+ bytes but manifest\.json records/ },
  { name: 'weights.file pointing outside the folder', files: { model: modelDir((dir) => editGraphJson(dir, (doc) => (doc.weights.file = '../../etc/passwd'))), 'p.yaml': modelPipeline('model') }, argv: compress(), code: ERROR_CODES.GRAPH_FILE, phrase: /weights\.file '\.\.\/\.\.\/etc\/passwd' must be a file name in the same directory/ },
  { name: 'graph.json not JSON', files: { model: modelDir((dir) => { fs.writeFileSync(path.join(dir, 'graph.json'), '{oops'); fs.rmSync(path.join(dir, 'manifest.json')); }), 'p.yaml': modelPipeline('model') }, argv: compress(), code: ERROR_CODES.GRAPH_FILE, phrase: /graph\.json: not valid JSON/ },
  {
    name: 'NaN weights',
    files: {
      model: (d) => {
        const graph = buildBevFusion(MICRO_CONFIG, 'fusion');
        const params = ParamStore.init(graph, 0);
        const w = graph.params.find((p) => p.role === 'weight')!;
        const bad = params.get(w.name).dataSync().slice();
        bad[0] = NaN;
        params.get(w.name).assign(require('@tensorflow/tfjs').tensor(bad, w.shape));
        saveGraph(path.join(d, 'model'), graph, params);
        params.dispose();
      },
      'p.yaml': modelPipeline('model'),
    },
    argv: compress(),
    code: ERROR_CODES.WEIGHTS_FILE,
    phrase: /NaN or infinite weights in 1 tensor\(s\)/,
  },
  // The output folder
  { name: '--out is a file', files: { 'p.yaml': pipelineYaml(), out: 'not a folder' }, argv: compress(), code: ERROR_CODES.OUTPUT, phrase: /is a file, not a folder/, unchanged: ['out'] },
  { name: '--out is a foreign folder with checkpoints and a report', files: { 'p.yaml': pipelineYaml(), 'out/checkpoints/step-1/weights.bin': 'mine', 'out/report.html': '<p>mine</p>' }, argv: compress(), code: ERROR_CODES.OUTPUT, phrase: /not a bevzip output folder/, unchanged: ['out/checkpoints/step-1/weights.bin', 'out/report.html'] },
  { name: '--out holds the model read', files: { model: modelDir(undefined, 'out/model'), 'p.yaml': `model: out/model\ndata: { synthetic: { seed: 0, scenes: 1, framesPerScene: 2, valScenes: 1 } }\n${stage()}`, 'out/bevzip-run.json': '{}' }, argv: compress(), code: ERROR_CODES.OUTPUT, phrase: /model.*inside the output folder/ },
  { name: '--out under a file', files: { 'p.yaml': pipelineYaml(), f: 'x' }, argv: ['compress', '-p', '$D/p.yaml', '--out', '$D/f/out'], code: ERROR_CODES.OUTPUT, phrase: /is a file, so no folder can be made/ },
  { name: '--out on a file system that takes no files', files: { 'p.yaml': pipelineYaml() }, argv: ['compress', '-p', '$D/p.yaml', '--out', '/proc/bevzip-out'], code: ERROR_CODES.OUTPUT, phrase: /cannot write to '\/proc'/ },
  { name: '--out held by a live run', files: { 'p.yaml': pipelineYaml(), 'out/bevzip-run.json': '{}', [`out/${LOCK_FILE}`]: JSON.stringify({ pid: 1, host: os.hostname(), startedAt: 'earlier' }) }, argv: compress(), code: ERROR_CODES.OUTPUT, phrase: /in use by another bevzip run \(pid 1 /, unchanged: [`out/${LOCK_FILE}`] },
  // nuScenes-format roots
  { name: 'nuScenes root that does not exist', files: { 'p.yaml': nuScenesPipeline }, argv: compress(), code: ERROR_CODES.DATA_FORMAT, phrase: /data\.nuscenes: .*ns/ },
  { name: 'nuScenes table missing', files: { ns: nuScenesRoot((v) => fs.rmSync(path.join(v, 'sample_data.json'))), 'p.yaml': nuScenesPipeline }, argv: compress(), code: ERROR_CODES.DATA_FORMAT, phrase: /sample_data\.json: expected the table file to exist/ },
  { name: 'nuScenes table not JSON', files: { ns: nuScenesRoot((v) => fs.writeFileSync(path.join(v, 'ego_pose.json'), '[{"token": ')), 'p.yaml': nuScenesPipeline }, argv: compress(), code: ERROR_CODES.DATA_FORMAT, phrase: /ego_pose\.json/ },
  { name: 'nuScenes dangling foreign key', files: { ns: nuScenesRoot((v) => editTable(v, 'sample_annotation', (r) => (r[1].instance_token = 'feedbeef'))), 'p.yaml': nuScenesPipeline }, argv: compress(), code: ERROR_CODES.DATA_FORMAT, phrase: /instance_token.*dangling token "feedbeef"/ },
  { name: 'nuScenes record of the wrong type', files: { ns: nuScenesRoot((v) => editTable(v, 'ego_pose', (r) => ((r[0].translation as unknown[])[1] = 'north'))), 'p.yaml': nuScenesPipeline }, argv: compress(), code: ERROR_CODES.DATA_FORMAT, phrase: /ego_pose\.json, record #0 .*translation/ },
  { name: 'nuScenes point cloud truncated', files: { ns: nuScenesRoot((v) => { const dir = path.join(v, '..', 'samples', 'LIDAR_TOP'); const f = path.join(dir, fs.readdirSync(dir)[0]); fs.truncateSync(f, 7); }), 'p.yaml': nuScenesPipeline }, argv: compress(), code: ERROR_CODES.DATA_FORMAT, phrase: /LIDAR_TOP.*\.pcd\.bin/ },
  { name: 'nuScenes root with one scene (nothing to hold out)', files: { ns: nuScenesRoot(undefined, 1), 'p.yaml': nuScenesPipeline }, argv: compress(), code: ERROR_CODES.CONFIG, phrase: /has 1 scene\(s\); expected at least 2/ },
  // `bevzip train --out` follows the same folder rules
  { name: 'train --out is a foreign folder', files: { 'm/notes.txt': 'mine' }, argv: train(), code: ERROR_CODES.OUTPUT, phrase: /not a bevzip output folder .*notes\.txt/, unchanged: ['m/notes.txt'] },
  { name: 'train --out is a file', files: { m: 'not a folder' }, argv: train(), code: ERROR_CODES.OUTPUT, phrase: /is a file, not a folder/, unchanged: ['m'] },
  { name: 'train --from a model inside --out', files: { model: modelDir(undefined, 'm/start'), 'm/bevzip-run.json': '{}' }, argv: train('--from', '$D/m/start'), code: ERROR_CODES.OUTPUT, phrase: /--from model .*inside the output folder/, unchanged: ['m/start/weights.bin'] },
  { name: 'train --out held by a live run', files: { 'm/bevzip-run.json': '{}', [`m/${LOCK_FILE}`]: JSON.stringify({ pid: 1, host: os.hostname(), startedAt: 'earlier' }) }, argv: train(), code: ERROR_CODES.OUTPUT, phrase: /in use by another bevzip run/, unchanged: [`m/${LOCK_FILE}`] },
  { name: 'train with a bad option writes nothing', argv: ['train', '--steps', '1', '--out', '$D/m', '--lr', '0'], code: 'commander.invalidArgument', phrase: /--lr/ },
  // Resume
  { name: '--resume with nothing to resume', files: { 'p.yaml': pipelineYaml() }, argv: compress('p.yaml', '--resume'), code: ERROR_CODES.CHECKPOINT, phrase: /nothing to resume/ },
  // Other commands and arguments
  { name: 'export at an opset that is not offered', argv: ['export', 'builtin:tiny-lidar', '--opset', '11', '-o', '$D/m.onnx'], code: 'commander.invalidArgument', phrase: /expected one of 16, 17/ },
  { name: 'export of a folder that is not a model', files: { 'empty/x': '' }, argv: ['export', '$D/empty', '-o', '$D/m.onnx'], code: ERROR_CODES.CHECKPOINT, phrase: /expected a model directory with graph\.json/ },
  { name: 'export of damaged weights writes nothing', files: { model: modelDir((dir) => fs.truncateSync(path.join(dir, 'weights.bin'), 10)) }, argv: ['export', '$D/model', '-o', '$D/m.onnx'], code: ERROR_CODES.CHECKPOINT, phrase: /truncated/ },
  { name: 'eval of a folder that does not exist', argv: ['eval', '--ckpt', '$D/none'], code: ERROR_CODES.CHECKPOINT, phrase: /no such directory/ },
  { name: 'eval of NaN weights is refused, not scored 0', files: { model: modelDir((dir) => { const b = fs.readFileSync(path.join(dir, 'weights.bin')); b.writeFloatLE(NaN, 0); fs.writeFileSync(path.join(dir, 'weights.bin'), b); fs.rmSync(path.join(dir, 'manifest.json')); }) }, argv: ['eval', '--ckpt', '$D/model'], code: ERROR_CODES.WEIGHTS_FILE, phrase: /NaN or infinite weights/ },
  { name: 'train with steps that are not a number', argv: ['train', '--steps', 'many', '--out', '$D/m'], code: 'commander.invalidArgument', phrase: /expected an integer/ },
  { name: 'compress without a pipeline', argv: ['compress'], code: 'commander.missingMandatoryOptionValue', phrase: /--pipeline/ },
  { name: 'unknown command', argv: ['compres'], code: 'commander.unknownCommand', phrase: /compres/ },
  // Reports
  { name: 'report of a folder without a summary', files: { 'run/x': '' }, argv: ['report', '$D/run'], code: ERROR_CODES.CONFIG, phrase: /no summary\.json/ },
  { name: 'report of a corrupt summary', files: { 'run/summary.json': '{\n  "format": "bevzip-summary",\n  "version": 2,\n' }, argv: ['report', '$D/run'], code: ERROR_CODES.CONFIG, phrase: /summary\.json:4:1: not valid JSON/ },
  { name: 'report of an incomplete summary', files: { 'run/summary.json': JSON.stringify({ format: 'bevzip-summary', version: 2, pipeline: { stages: [] } }) }, argv: ['report', '$D/run'], code: ERROR_CODES.CONFIG, phrase: /summary\.json: models: .*incomplete/s },
  // Environment
  { name: 'BEVZIP_BACKEND naming no backend', files: { 'p.yaml': pipelineYaml() }, argv: compress(), env: { BEVZIP_BACKEND: 'nonsense' }, code: ERROR_CODES.CONFIG, phrase: /BEVZIP_BACKEND/ },
];

function setUp(dir: string, files: Row['files'] = {}) {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    if (typeof content === 'function') {
      content(dir);
      continue;
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, typeof content === 'string' ? content.replaceAll('$D', dir) : content);
  }
}

async function runCli(argv: string[], env: Record<string, string> = {}): Promise<unknown> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  const program = createProgram();
  program.exitOverride();
  for (const c of program.commands) c.exitOverride();
  program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  for (const c of program.commands) c.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  try {
    await program.parseAsync(['node', 'bevzip', ...argv]);
    return undefined;
  } catch (e) {
    return e;
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('bad input: every row fails with its code and message, and changes nothing it must not', () => {
  let root: string;
  let write: jest.SpyInstance;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-bad-'));
    write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterAll(() => {
    write.mockRestore();
    fs.rmSync(root, { recursive: true, force: true });
    if (pristineNuScenes) fs.rmSync(pristineNuScenes, { recursive: true, force: true });
  });

  it('has at least 40 distinct rows', () => {
    expect(new Set(ROWS.map((r) => r.name)).size).toBe(ROWS.length);
    expect(ROWS.length).toBeGreaterThanOrEqual(40);
  });

  it.each(ROWS.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const dir = fs.mkdtempSync(path.join(root, 'row-'));
    setUp(dir, row.files);
    const before = Object.fromEntries((row.unchanged ?? []).map((f) => [f, fs.readFileSync(path.join(dir, f)).toString('base64')]));
    const err = await runCli(row.argv.map((a) => a.replaceAll('$D', dir)), row.env);
    expect(err).toBeDefined();
    if (row.code.startsWith('commander.')) {
      expect(err).toBeInstanceOf(CommanderError);
      expect((err as CommanderError).code).toBe(row.code);
    } else {
      expect(err).toBeInstanceOf(BevzipError);
      expect((err as BevzipError).code).toBe(row.code);
    }
    expect((err as Error).message).toMatch(row.phrase);
    for (const [f, bytes] of Object.entries(before)) expect(fs.readFileSync(path.join(dir, f)).toString('base64')).toBe(bytes);
    expect(fs.existsSync(path.join(dir, 'MARKER'))).toBe(false);
    // A refused compress leaves no output of its own behind in a folder it did not own.
    if (row.argv[0] === 'compress' && row.code !== ERROR_CODES.CHECKPOINT) expect(fs.existsSync(path.join(dir, 'out', 'summary.json'))).toBe(false);
    if (row.argv[0] === 'train') expect(fs.existsSync(path.join(dir, 'm', 'graph.json'))).toBe(false);
  }, 30_000);

  it('a changed pipeline on --resume is refused naming the fields that differ', async () => {
    const dir = fs.mkdtempSync(path.join(root, 'resume-'));
    const file = path.join(dir, 'p.yaml');
    fs.writeFileSync(file, `seed: 1\n${MICRO}${stage('[]', '3')}training: { checkpointEvery: 1 }\n`);
    const quiet = { cwd: dir, log: () => undefined, richProgress: false, quietBackend: true, render: async () => '<svg/>' };
    await runCompress({ ...quiet, pipeline: file, out: path.join(dir, 'out') });
    fs.writeFileSync(file, `seed: 2\n${MICRO}${stage('[]', '3')}training: { checkpointEvery: 1 }\n`);
    const ckpts = path.join(dir, 'out', 'checkpoints');
    const snapshot = fs.readdirSync(ckpts).sort();
    await expect(runCompress({ ...quiet, pipeline: file, out: path.join(dir, 'out'), resume: true })).rejects.toMatchObject({ code: ERROR_CODES.CHECKPOINT, message: expect.stringContaining('seed (checkpoint: 1, now: 2)') });
    expect(fs.readdirSync(ckpts).sort()).toEqual(snapshot);
  }, 120_000);
});
