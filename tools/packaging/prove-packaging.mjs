#!/usr/bin/env node
// Packaging proof: packs every workspace package, installs only the CLI, the IR, bev-fusion and one
// plugin from the tarballs into a fresh project outside the repository (third-party packages from
// the npm cache alone), runs a short pipeline with that plugin, checks that a pipeline naming an
// uninstalled plugin fails with the install command, then scaffolds a third-party plugin with
// create-plugin, builds and tests it, and composes it with the bevzip plugin in one run.
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
/** A plugin of the roadmap that no workspace package provides yet. */
const FALLBACK_OTHER = '@bevzip/plugin-unidistill';

/** Problems that do not stop the later steps, reported together at the end (and failing the run). */
const violations = [];
function violate(message) {
  violations.push(message);
  note(`⚠ ${message}`);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-packaging-'));
const dirs = { tarballs: path.join(work, 'tarballs'), app: path.join(work, 'app'), thirdParty: path.join(work, 'third-party') };
const tarballs = new Map();
const bevzip = (argv, opts = {}) => run('npx', ['bevzip', ...argv], { cwd: dirs.app, ...opts });

/** A pipeline file on the micro model with one stage of the given plugin uses. */
function pipelineFile(name, uses) {
  const file = path.join(dirs.app, `${name}.json`);
  writeJson(file, {
    name,
    seed: 1,
    model: { builder: 'bev-fusion', config: 'micro' },
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
  plan(13);
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
    for (const name of [...BASE, PLUGIN, '@bevzip/plugin-tester', '@bevzip/create-plugin']) check(tarballs.has(name), `no workspace package is named ${name}`);
  });

  await step('check the CLI leaves plugins optional', () => {
    const deps = Object.keys(readJson(path.join(ROOT, 'tools/cli/package.json')).dependencies ?? {});
    const plugins = deps.filter((d) => /^@bevzip\/plugin-/.test(d));
    if (plugins.length > 0) violate(`@bevzip/cli lists ${plugins.join(', ')} in dependencies, so every install gets them; plugin packages belong to the users who name them (make them optional peer or dev dependencies and load them lazily)`);
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
    check(r.stderr.includes(`npm install ${args.other}`), `the error does not give the install command 'npm install ${args.other}':\n${tail(r.stderr, 10)}`);
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
}

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
