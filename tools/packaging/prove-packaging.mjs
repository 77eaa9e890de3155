#!/usr/bin/env node
// Packaging proof: packs every workspace package, installs @bevzip/driving-data alone into a fresh
// project and scores a detection submission file with its metrics, installs only the CLI, the IR,
// bev-fusion (with the data packages it depends on) and one plugin from the tarballs into another
// fresh project outside the repository (third-party packages from the npm cache alone), runs a short
// pipeline with that plugin, checks that a pipeline naming an uninstalled plugin fails with the
// install command, then scaffolds a third-party plugin with create-plugin, builds and tests it, and
// composes it with the bevzip plugin in one run. Last, it installs @bevzip/plugin-x3kd, distils a
// micro camera-only student from a micro LiDAR teacher with it and checks the exported ONNX for
// train-only parts.
//
//   node tools/packaging/prove-packaging.mjs [--plugin @bevzip/plugin-altermoma] [--plugin-options JSON]
//                                            [--other @bevzip/plugin-qdbev] [--steps 2] [--keep] [--skip-build]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { installOffline } from './offline-install.mjs';
import { StepFailure, check, note, plan, readEvents, readJson, run, step, summary, tail, writeJson } from './steps.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LOCK = path.join(ROOT, 'package-lock.json');

/** Options that keep each known plugin's part of the proof short on the micro model. */
const QUICK_OPTIONS = {
  '@bevzip/plugin-altermoma': { sparsity: 0.5, scoringBatches: 1, reactivationSteps: 1 },
  '@bevzip/plugin-qdbev': { quantize: {} },
};

const X3KD = '@bevzip/plugin-x3kd';
const micro = (modality) => ({ builder: 'bev-fusion', config: 'micro', modality });
/**
 * Student and teacher of each plugin's pipelines (default: the micro fusion model, no teacher).
 * X3KD distils a LiDAR teacher into a camera-only student; fresh weights for both are enough to
 * prove the packages work together.
 */
const MODELS = {
  [X3KD]: { model: micro('camera'), teacher: micro('lidar') },
};
const modelsOf = (plugin) => MODELS[plugin] ?? { model: micro('fusion') };

const { values: args } = parseArgs({
  options: {
    plugin: { type: 'string', default: '@bevzip/plugin-altermoma' },
    'plugin-options': { type: 'string' },
    other: { type: 'string', default: '@bevzip/plugin-qdbev' },
    steps: { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
    'skip-build': { type: 'boolean', default: false },
  },
});
const PLUGIN = args.plugin;
const PLUGIN_OPTIONS = args['plugin-options'] ? JSON.parse(args['plugin-options']) : (QUICK_OPTIONS[PLUGIN] ?? {});
const STEPS = Number(args.steps);
const THIRD_PARTY = '@acme/bevzip-plugin-sparse-l1';
const BASE = ['@bevzip/cli', '@bevzip/ir', '@bevzip/bev-fusion'];
/** The model-agnostic data package, installed on its own in the first fresh project. */
const DATA = '@bevzip/driving-data';
/** A workspace plugin the plugin project does not install (another one when it is `--plugin`). */
const FALLBACK_OTHER = PLUGIN === '@bevzip/plugin-unidistill' ? '@bevzip/plugin-x3kd' : '@bevzip/plugin-unidistill';

/** Problems that do not stop the later steps, reported together at the end (and failing the run). */
const violations = [];
function violate(message) {
  violations.push(message);
  note(`⚠ ${message}`);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-packaging-'));
const dirs = {
  tarballs: path.join(work, 'tarballs'),
  data: path.join(work, 'data-only'),
  app: path.join(work, 'app'),
  thirdParty: path.join(work, 'third-party'),
};
const tarballs = new Map();
const bevzip = (argv, opts = {}) => run('npx', ['bevzip', ...argv], { cwd: dirs.app, ...opts });

/** A pipeline file on micro models (`models`: student and teacher, see MODELS) with one stage of the given plugin uses. */
function pipelineFile(name, uses, models = modelsOf(PLUGIN)) {
  const file = path.join(dirs.app, `${name}.json`);
  writeJson(file, {
    name,
    seed: 1,
    ...models,
    data: { synthetic: { seed: 0, scenes: 1, framesPerScene: 2, valScenes: 1 } },
    stages: [{ name: 'compress', steps: STEPS, plugins: uses }],
    training: { checkpointEvery: 100 },
    export: { latencyRuns: 1 },
  });
  return file;
}

/** Names of the plugins a run loaded, from its run-start event. */
function runPlugins(out) {
  const start = readEvents(out).find((e) => e.type === 'run-start');
  check(start, `${out}/events.jsonl has no run-start event`);
  return start.plugins;
}

async function main() {
  plan(18);
  process.stdout.write(`packaging proof in ${work} (plugin ${PLUGIN}, other ${args.other})\n`);

  await step('build every package', () => {
    if (args['skip-build']) return note('skipped (--skip-build): packing the dist folders as they are');
    run('npx', ['nx', 'run-many', '-t', 'build', '--outputStyle=static'], { cwd: ROOT });
  });

  await step('pack every package (npm pack)', () => {
    fs.mkdirSync(dirs.tarballs, { recursive: true });
    const packed = JSON.parse(run('npm', ['pack', '--workspaces', '--pack-destination', dirs.tarballs, '--json'], { cwd: ROOT, env: { npm_config_loglevel: 'error' } }).stdout);
    for (const p of packed) {
      const pkg = readJson(path.join(ROOT, ...workspaceDir(p.name), 'package.json'));
      if (pkg.main) check(p.files.some((f) => `./${f.path}` === pkg.main || f.path === pkg.main), `${p.name}: the tarball lacks its main file ${pkg.main} (not built?)`);
      tarballs.set(p.name, path.join(dirs.tarballs, p.filename));
      note(`${p.filename}  ${(p.size / 1024).toFixed(0)} kB, ${p.entryCount} files`);
    }
    for (const name of [...BASE, DATA, PLUGIN, '@bevzip/plugin-tester', '@bevzip/create-plugin']) check(tarballs.has(name), `no workspace package is named ${name}`);
  });

  await step(`install ${DATA} alone from its tarball into a fresh project (offline)`, () => {
    const pulled = bevzipClosure([DATA]).filter((n) => n !== DATA);
    check(pulled.length === 0, `${DATA} depends on ${pulled.join(', ')}; it must stand alone`);
    writeJson(path.join(dirs.data, 'package.json'), { name: 'bevzip-data-only', private: true, dependencies: { [DATA]: `file:${tarballs.get(DATA)}` } });
    fs.writeFileSync(path.join(dirs.data, '.npmrc'), 'onnxruntime-node-install=skip\n');
    installOffline(dirs.data, { workspaceLock: LOCK, log: note });
    const installed = fs.readdirSync(path.join(dirs.data, 'node_modules', '@bevzip'));
    check(installed.join() === 'driving-data', `node_modules/@bevzip holds ${installed.join(', ')}; expected driving-data alone`);
    // Metrics and the format reader need no tensor library; pulling one in would make every data user pay for it.
    if (fs.existsSync(path.join(dirs.data, 'node_modules', '@tensorflow'))) violate(`installing ${DATA} also installed @tensorflow packages`);
  });

  await step(`compute NDS from a submission file with ${DATA}'s metrics`, () => {
    const { gt, submission, expected } = ndsFixture();
    writeJson(path.join(dirs.data, 'gt.json'), gt);
    writeJson(path.join(dirs.data, 'results.json'), submission);
    fs.writeFileSync(path.join(dirs.data, 'nds.cjs'), NDS_SCRIPT);
    const r = JSON.parse(run('node', ['nds.cjs', 'gt.json', 'results.json'], { cwd: dirs.data }).stdout);
    note(`devkit NDS (all 10 classes) ${r.nds.toFixed(4)}, mAP ${r.mAP.toFixed(4)}; over the classes present: NDS ${r.present.nds.toFixed(4)}, mAP ${r.present.mAP.toFixed(4)}, mATE ${r.present.mATE.toFixed(4)}`);
    for (const [key, want] of Object.entries(expected)) {
      const got = key.split('.').reduce((o, k) => o[k], r);
      check(Math.abs(got - want) < 1e-9, `${key} is ${got}, expected ${want}`);
    }
  });

  await step('check the CLI leaves plugins optional, and plugins need no model', () => {
    const deps = Object.keys(readJson(path.join(ROOT, 'tools/cli/package.json')).dependencies ?? {});
    const plugins = deps.filter((d) => /^@bevzip\/plugin-/.test(d));
    if (plugins.length > 0) violate(`@bevzip/cli lists ${plugins.join(', ')} in dependencies, so every install gets them; plugin packages belong to the users who name them (make them optional peer or dev dependencies and load them lazily)`);
    // Lint keeps plugin sources off model packages; this keeps them out of what a plugin install pulls in.
    for (const name of tarballs.keys()) {
      if (!/^@bevzip\/plugin-/.test(name) || name === '@bevzip/plugin-tester') continue;
      const pkg = readJson(path.join(ROOT, ...workspaceDir(name), 'package.json'));
      const models = Object.keys(pkg.dependencies ?? {}).filter((d) => tagsOf(d).includes('scope:model'));
      if (models.length > 0) violate(`${name} lists the model package(s) ${models.join(', ')} in dependencies; a plugin may use one in its tests only (devDependencies)`);
    }
  });

  await step(`install ${[...BASE, PLUGIN].join(', ')} from the tarballs into a fresh project (offline)`, () => {
    const wanted = [...BASE, PLUGIN];
    const dependencies = Object.fromEntries(wanted.map((n) => [n, `file:${tarballs.get(n)}`]));
    // bevzip packages these depend on are not on any registry here: point them at their tarballs too.
    const pulled = bevzipClosure(wanted).filter((n) => !wanted.includes(n));
    const overrides = Object.fromEntries(pulled.map((n) => [n, `file:${tarballs.get(n)}`]));
    writeJson(path.join(dirs.app, 'package.json'), { name: 'bevzip-packaging-app', private: true, dependencies, overrides });
    fs.writeFileSync(path.join(dirs.app, '.npmrc'), 'onnxruntime-node-install=skip\n');
    const pins = installOffline(dirs.app, { workspaceLock: LOCK, log: note });
    const installed = fs.readdirSync(path.join(dirs.app, 'node_modules', '@bevzip')).map((n) => `@bevzip/${n}`).sort();
    const missing = [...BASE, PLUGIN].filter((n) => !installed.includes(n));
    check(missing.length === 0, `node_modules/@bevzip lacks ${missing.join(', ')}`);
    // The packages the asked-for ones depend on come along (the data packages under bev-fusion); nothing else may.
    const expected = bevzipClosure(wanted);
    const extra = installed.filter((n) => !expected.includes(n) || (/^@bevzip\/plugin-/.test(n) && n !== PLUGIN));
    if (extra.length > 0) violate(`installing ${[...BASE, PLUGIN].join(', ')} also installed ${extra.join(', ')}`);
    if (pulled.length > 0) note(`pulled in as dependencies: ${pulled.join(', ')}`);
    note(`installed with no network; ${Object.keys(pins).length} package(s) pinned to the workspace's versions`);
  });

  await step('bevzip --version and bevzip plugins', () => {
    const version = bevzip(['--version']).stdout.trim();
    check(version === readJson(path.join(ROOT, 'tools/cli/package.json')).version, `bevzip --version printed '${version}'`);
    const listed = bevzip(['plugins']).stdout;
    note(listed.trim());
    check(new RegExp(`✓ ${PLUGIN.replace('/', '\\/')}@`).test(listed), `bevzip plugins does not list ${PLUGIN} as compatible`);
  });

  await step(`compress the micro model with ${PLUGIN} (${STEPS} steps)`, () => {
    const out = path.join(dirs.app, 'out-plugin');
    const r = bevzip(['compress', '--pipeline', pipelineFile('one-plugin', [{ use: PLUGIN, options: PLUGIN_OPTIONS }]), '--out', out]);
    note(tail(r.stdout, 6));
    const steps = readEvents(out).filter((e) => e.type === 'step');
    check(steps.length === STEPS, `the run logged ${steps.length} steps, expected ${STEPS}`);
    for (const f of ['summary.json', 'report.html', 'compressed.onnx']) check(fs.existsSync(path.join(out, f)), `the run wrote no ${f}`);
  });

  await step(`a pipeline naming ${args.other} fails with the install hint`, () => {
    if (fs.existsSync(path.join(dirs.app, 'node_modules', ...args.other.split('/')))) {
      violate(`${args.other} is installed although only ${[...BASE, PLUGIN].join(', ')} were asked for; checking the hint with ${FALLBACK_OTHER} instead`);
      args.other = FALLBACK_OTHER;
    }
    const out = path.join(dirs.app, 'out-missing');
    const r = bevzip(['compress', '--pipeline', pipelineFile('missing-plugin', [{ use: args.other, options: {} }]), '--out', out], { expectFailure: true });
    check(r.stderr.includes(`npm install '${args.other}'`), `the error does not give the install command "npm install '${args.other}'":\n${tail(r.stderr, 10)}`);
    check(!fs.existsSync(path.join(out, 'events.jsonl')), 'the run started training before failing on the missing plugin');
    note(tail(r.stderr, 2));
  });

  await step(`scaffold ${THIRD_PARTY} with npx @bevzip/create-plugin`, () => {
    fs.mkdirSync(dirs.thirdParty, { recursive: true });
    const tgz = tarballs.get('@bevzip/create-plugin');
    run('npm', ['exec', '--offline', '--yes', `--package=${tgz}`, '--', 'create-plugin', THIRD_PARTY, '--description', 'L1 penalty on selected weights'], { cwd: dirs.thirdParty });
    const pkg = readJson(path.join(scaffoldDir(), 'package.json'));
    const ir = readJson(path.join(ROOT, 'packages/ir/package.json')).version;
    check(pkg.dependencies['@bevzip/ir'] === `^${ir}`, `the scaffold depends on @bevzip/ir ${pkg.dependencies['@bevzip/ir']}, expected ^${ir}`);
  });

  await step('install the scaffold (@bevzip/ir and @bevzip/plugin-tester from the tarballs, offline)', () => {
    // npm records the tarball paths in package.json; the published package must keep its version ranges.
    const pkgFile = path.join(scaffoldDir(), 'package.json');
    const original = fs.readFileSync(pkgFile, 'utf8');
    try {
      installOffline(scaffoldDir(), { specs: [tarballs.get('@bevzip/ir'), tarballs.get('@bevzip/plugin-tester')], workspaceLock: LOCK, log: note });
    } finally {
      fs.writeFileSync(pkgFile, original);
    }
  });

  await step('build the scaffold (npm run build)', () => {
    run('npm', ['run', 'build'], { cwd: scaffoldDir() });
    check(fs.existsSync(path.join(scaffoldDir(), 'dist/index.js')), 'npm run build wrote no dist/index.js');
  });

  await step('test the scaffold (npm test)', () => {
    const r = run('npm', ['test'], { cwd: scaffoldDir() });
    note(tail(r.stderr, 5));
  });

  await step(`pack ${THIRD_PARTY} and install it into the project (offline)`, () => {
    const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dirs.tarballs], { cwd: scaffoldDir() }).stdout);
    installOffline(dirs.app, { specs: [path.join(dirs.tarballs, packed[0].filename)], workspaceLock: LOCK, log: note });
  });

  await step(`compose ${PLUGIN} and ${THIRD_PARTY} in one compress run`, () => {
    const out = path.join(dirs.app, 'out-composed');
    const uses = [{ use: PLUGIN, options: PLUGIN_OPTIONS }, { use: THIRD_PARTY, options: { weight: 0.001 } }];
    const r = bevzip(['compress', '--pipeline', pipelineFile('composed', uses), '--out', out]);
    note(tail(r.stdout, 6));
    const loaded = runPlugins(out);
    check(loaded.includes(THIRD_PARTY) && loaded.length >= 2, `the run loaded ${loaded.join(', ')}; expected ${THIRD_PARTY} beside ${PLUGIN}'s plugins`);
    const steps = readEvents(out).filter((e) => e.type === 'step');
    check(steps.length === STEPS && steps.every((e) => Number.isFinite(e.losses[`${THIRD_PARTY}/l1`])), `the steps do not all carry the loss term ${THIRD_PARTY}/l1`);
    note(`plugins in the run: ${loaded.join(', ')}`);
  });

  await step(`install ${X3KD} from its tarball into the project (offline)`, () => {
    if (PLUGIN === X3KD) return note(`already installed (it is --plugin)`);
    check(tarballs.has(X3KD), `no workspace package is named ${X3KD}`);
    installOffline(dirs.app, { specs: [tarballs.get(X3KD)], workspaceLock: LOCK, log: note });
    check(fs.existsSync(path.join(dirs.app, 'node_modules', ...X3KD.split('/'), 'package.json')), `node_modules lacks ${X3KD}`);
  });

  const x3kdOut = path.join(dirs.app, 'out-x3kd');
  await step(`distil a micro camera-only student from a micro LiDAR teacher with ${X3KD} (${STEPS} steps, export)`, () => {
    const r = bevzip(['compress', '--pipeline', pipelineFile('x3kd', [{ use: X3KD, options: {} }], MODELS[X3KD]), '--out', x3kdOut]);
    note(tail(r.stdout, 6));
    const steps = readEvents(x3kdOut).filter((e) => e.type === 'step');
    check(steps.length === STEPS, `the run logged ${steps.length} steps, expected ${STEPS}`);
    for (const term of ['is', 'fd', 'at', 'od']) {
      const values = steps.map((e) => e.losses[`x3kd/${term}`]);
      check(values.every((v) => Number.isFinite(v) && v > 0), `loss term x3kd/${term} is not positive and finite at every step: ${values.join(', ')}`);
    }
    check(fs.existsSync(path.join(x3kdOut, 'compressed.onnx')), 'the run wrote no compressed.onnx');
  });

  await step('the exported X3KD student has no train-only parts (checked with the installed packages)', () => {
    fs.writeFileSync(path.join(dirs.app, 'x3kd-artifact.cjs'), X3KD_ARTIFACT_SCRIPT);
    const r = JSON.parse(run('node', ['x3kd-artifact.cjs', path.join(x3kdOut, 'compressed.onnx')], { cwd: dirs.app }).stdout);
    note(`train-only names of the student's X3KD graph: ${r.trainOnlyNames} (${r.trainOnlyParams} param tensors); in the ONNX: ${r.found.length ? r.found.join(', ') : 'none'}`);
    note(`ONNX: ${r.exported.nodes} nodes, ${r.exported.initializerValues} initializer values, ops ${r.exported.ops.join(' ')}; plain student: ${r.plain.nodes} nodes, ${r.plain.initializerValues} values`);
    check(r.trainOnlyNames > 0, 'the X3KD graph has no train-only names to look for');
    check(r.found.length === 0, `the exported model carries train-only parts: ${r.found.join(', ')}`);
    check(r.exported.nodes === r.plain.nodes && r.exported.initializerValues === r.plain.initializerValues && r.exported.ops.join() === r.plain.ops.join(), 'the exported model differs from the plain camera student in nodes, initializer values or ops');
  });
}

/**
 * Run in the plugin project with the installed packages only: builds the micro camera student and
 * the same graph with X3KD's train-only modules (its own `addModules`), then reads the exported
 * ONNX and lists every train-only node, param or value name found in it (node names, inputs,
 * outputs, initializers, graph inputs and outputs), and compares it with the plain student's export.
 */
const X3KD_ARTIFACT_SCRIPT = `const fs = require('node:fs');
const path = require('node:path');
const { ParamStore, exportOnnx, stripTrainOnly } = require('@bevzip/ir');
const { MICRO_CONFIG, buildBevFusion } = require('@bevzip/bev-fusion');
const { addModules, x3kdOptions } = require('@bevzip/plugin-x3kd');
// The ONNX protobuf types @bevzip/ir writes with, resolved from where @bevzip/ir is installed.
const { onnx } = require(require.resolve('onnx-proto', { paths: [path.dirname(require.resolve('@bevzip/ir'))] }));
const student = buildBevFusion(MICRO_CONFIG, 'camera');
const full = addModules(student, x3kdOptions.parse({}));
const trainOnly = new Set();
for (const n of full.nodes) if (n.tags.trainOnly) [n.name, ...n.outputs].forEach((v) => trainOnly.add(v));
for (const p of full.params) if (p.tags && p.tags.trainOnly) trainOnly.add(p.name);
const describe = (bytes) => {
  const g = onnx.ModelProto.decode(bytes).graph;
  const size = (t) => (t.dims || []).reduce((a, d) => a * Number(d), 1);
  const names = new Set([...g.node.flatMap((n) => [n.name, ...n.input, ...n.output]), ...g.initializer.map((t) => t.name), ...g.input.map((i) => i.name), ...g.output.map((o) => o.name)]);
  return { names, nodes: g.node.length, initializerValues: g.initializer.reduce((n, t) => n + size(t), 0), ops: [...new Set(g.node.map((n) => n.opType))].sort() };
};
const exported = describe(fs.readFileSync(process.argv[2]));
const plainParams = ParamStore.init(student, 1);
const plain = describe(exportOnnx(stripTrainOnly(student), plainParams, { opset: 17 }));
plainParams.dispose();
const found = [...exported.names].filter((n) => trainOnly.has(n) || n.startsWith('x3kd.'));
const counts = ({ nodes, initializerValues, ops }) => ({ nodes, initializerValues, ops });
console.log(JSON.stringify({ trainOnlyNames: trainOnly.size, trainOnlyParams: full.params.length - student.params.length, found, exported: counts(exported), plain: counts(plain) }));
`;

/**
 * Ground truth and a submission for the metrics step: two samples with the ego at the origin, two
 * cars and a pedestrian each, and predictions that repeat every box 0.3 m further along x with the
 * same size, yaw, velocity and attribute. Every prediction then matches at every distance threshold,
 * so over the two classes present AP is 1 and the only TP error is translation (0.3 m): NDS =
 * (5·1 + 0.7 + 1 + 1 + 1 + 1) / 10 = 0.97. The devkit's NDS over all ten classes is lower (the
 * absent classes score AP 0), and is checked against the same formula by the script.
 */
function ndsFixture() {
  const box = (sample, name, translation, attribute, velocity) => ({ sample, name, translation, attribute, velocity });
  const boxes = ['s0', 's1'].flatMap((s, i) => [
    box(s, 'car', [10 + i, 4, 0.8], 'vehicle.moving', [2, 0]),
    box(s, 'car', [-15, -6 - i, 0.8], 'vehicle.parked', [0, 0]),
    box(s, 'pedestrian', [5, -3 + i, 0.9], 'pedestrian.moving', [0, 1]),
  ]);
  const size = { car: [1.9, 4.5, 1.6], pedestrian: [0.7, 0.7, 1.8] };
  const rotation = [Math.cos(0.15), 0, 0, Math.sin(0.15)];
  const gt = boxes.map((b) => ({ sampleToken: b.sample, translation: b.translation, size: size[b.name], rotation, velocity: b.velocity, detectionName: b.name, detectionScore: -1, attributeName: b.attribute, egoDist: Math.hypot(b.translation[0], b.translation[1]), numPts: 20 }));
  const results = { s0: [], s1: [] };
  for (const [k, b] of boxes.entries()) {
    results[b.sample].push({
      sample_token: b.sample,
      translation: [b.translation[0] + 0.3, b.translation[1], b.translation[2]],
      size: size[b.name],
      rotation,
      velocity: b.velocity,
      detection_name: b.name,
      detection_score: 0.9 - k * 0.05,
      attribute_name: b.attribute,
    });
  }
  const meta = { use_camera: true, use_lidar: true, use_radar: false, use_map: false, use_external: false };
  return { gt, submission: { meta, results }, expected: { 'present.mAP': 1, 'present.nds': 0.97, 'present.mATE': 0.3, ndsFormulaGap: 0 } };
}

/** Run in the data-only project: reads the ground truth and the submission file, prints the metrics as JSON. */
const NDS_SCRIPT = `const fs = require('node:fs');
const { DETECTION_CVPR_2019, aggregateDetection, evaluateDetection, groupBySample, parseSubmission, submissionToEvalBoxes } = require('@bevzip/driving-data');
const [gtFile, resultsFile] = process.argv.slice(2);
const gt = groupBySample(JSON.parse(fs.readFileSync(gtFile, 'utf8')));
const submission = parseSubmission(fs.readFileSync(resultsFile, 'utf8'), { source: resultsFile, expectedSampleTokens: [...gt.keys()] });
const pred = submissionToEvalBoxes(submission, () => [0, 0, 0]);
const { metrics } = evaluateDetection(gt, pred, DETECTION_CVPR_2019);
const scores = Object.values(metrics.tpScores).reduce((a, b) => a + b, 0);
const present = [...new Set([...gt.values()].flat().map((b) => b.detectionName))];
const pick = (record) => Object.fromEntries(present.map((c) => [c, record[c]]));
const p = aggregateDetection(pick(metrics.labelAps), pick(metrics.labelTpErrors), DETECTION_CVPR_2019);
console.log(JSON.stringify({
  nds: metrics.ndScore,
  mAP: metrics.meanAp,
  ndsFormulaGap: Math.abs(metrics.ndScore - (5 * metrics.meanAp + scores) / 10),
  present: { nds: p.ndScore, mAP: p.meanAp, mATE: p.tpErrors.trans_err },
}));
`;

/** The bevzip packages `names` need at run time, themselves included. */
function bevzipClosure(names) {
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    const deps = readJson(path.join(ROOT, ...workspaceDir(name), 'package.json')).dependencies ?? {};
    for (const dep of Object.keys(deps)) if (dep.startsWith('@bevzip/')) visit(dep);
  };
  names.forEach(visit);
  return [...seen];
}

/** Nx tags of a workspace package (`nx.tags` in its package.json); none for a third-party package. */
function tagsOf(name) {
  if (!name.startsWith('@bevzip/')) return [];
  return readJson(path.join(ROOT, ...workspaceDir(name), 'package.json')).nx?.tags ?? [];
}

function workspaceDir(name) {
  for (const group of ['packages', 'tools']) {
    for (const dir of fs.readdirSync(path.join(ROOT, group))) {
      const file = path.join(ROOT, group, dir, 'package.json');
      if (fs.existsSync(file) && readJson(file).name === name) return [group, dir];
    }
  }
  throw new Error(`no workspace folder holds ${name}`);
}

function scaffoldDir() {
  return path.join(dirs.thirdParty, THIRD_PARTY.split('/').pop());
}

const started = performance.now();
try {
  await main();
  if (violations.length > 0) {
    throw new StepFailure(`packaging proof: every step ran, but the packages break the packaging rules:\n${violations.map((v) => `  - ${v}`).join('\n')}`);
  }
  process.stdout.write(`\npackaging proof passed in ${((performance.now() - started) / 1000).toFixed(0)} s\n${summary()}\n`);
} catch (e) {
  process.stderr.write(`\n${e instanceof StepFailure ? e.message : e.stack}\n(work folder kept: ${work})\n`);
  args.keep = true;
  process.exitCode = 1;
} finally {
  if (args.keep) {
    if (process.exitCode !== 1) process.stdout.write(`work folder kept: ${work}\n`);
  } else if (spawnSync('rm', ['-rf', work]).status !== 0) {
    // `rm -rf` clears the two installs (≈1.4 GB) several times faster than fs.rmSync, which stays as the fallback.
    fs.rmSync(work, { recursive: true, force: true });
  }
}
