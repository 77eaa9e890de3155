import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { BevzipError, ERROR_CODES } from '@bevzip/ir';
import { benchKernels } from '../bench/kernels';
import { benchTrainStep, formatTrainStep } from '../bench/train-step';
import { integerAtLeast, positiveNumber } from './cli-options';

/**
 * Method benchmarks need their plugin package, which a user may not have installed; they are loaded
 * only when their subcommand runs, with the install command in the error otherwise.
 */
function loadMethodBench<T>(module: string, ...plugins: string[]): T {
  for (const plugin of plugins) {
    try {
      require.resolve(plugin);
    } catch {
      throw new BevzipError(ERROR_CODES.CONFIG, `this benchmark needs ${plugin}; install it with: npm install ${plugin}`);
    }
  }
  return require(module) as T;
}

/** A JSON object given on the command line. */
function parseJsonOption(flag: string, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new BevzipError(ERROR_CODES.CONFIG, `${flag}: expected a JSON object, got ${JSON.stringify(text)} (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BevzipError(ERROR_CODES.CONFIG, `${flag}: expected a JSON object, got ${text}`);
  return value as Record<string, unknown>;
}

interface EmitOptions {
  json?: boolean;
  out?: string;
}

function emit(result: object, options: EmitOptions, table: () => string): void {
  if (options.out) {
    fs.mkdirSync(path.dirname(options.out), { recursive: true });
    fs.writeFileSync(options.out, JSON.stringify(result, null, 2) + '\n');
  }
  process.stdout.write(options.json ? JSON.stringify(result) + '\n' : table());
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const int = integerAtLeast(0);
const numbers = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean).map(Number);
const names = (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean);
function namesOf(allowed: readonly string[]): (v: string) => string[] {
  return (v) => {
    const list = names(v);
    const bad = list.filter((x) => !allowed.includes(x));
    if (bad.length > 0) throw new InvalidArgumentError(`unknown value(s) ${bad.join(', ')}; expected some of ${allowed.join(', ')}.`);
    return list;
  };
}

/**
 * A method benchmark command with the options they all share (output, training batch and rate,
 * training scenes, the validation frames) and its own defaults; `run` gets the parsed options and
 * the log, and returns the report and how to print it.
 */
function methodBench<O>(
  bench: Command,
  name: string,
  description: string,
  defaults: { trainScenes: number; lr: number },
  options: (c: Command) => Command,
  run: (o: O) => Promise<{ report: object; table: () => string }>,
): void {
  const c = bench
    .command(name)
    .description(description)
    .option('--json', 'print one JSON object instead of a table')
    .option('--out <file>', 'also write the JSON to this file')
    .option('--batch-size <n>', 'training batch size', integerAtLeast(1), 2)
    .option('--lr <x>', 'AdamW learning rate (cosine to 0)', positiveNumber, defaults.lr)
    .option('--train-scenes <n>', 'synthetic training scenes (3 frames each)', integerAtLeast(1), defaults.trainScenes)
    .option('--val-frames <n>', 'only the first N frames of the standard validation split (default: all 360); for a reduced run', integerAtLeast(1));
  options(c).action(async ({ json, out, ...o }: EmitOptions & Record<string, unknown>) => {
    const { report, table } = await run({ ...o, log } as O);
    emit(report, { json, out }, table);
  });
}

const CRITERIA = ['altermoma', 'magnitude', 'snip', 'synflow', 'imp'];
function oneOf<T extends string>(allowed: readonly T[]): (v: string) => T {
  return (v) => {
    if (!(allowed as readonly string[]).includes(v.trim())) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}, got '${v}'.`);
    return v.trim() as T;
  };
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks that print measured figures (ratios from one run)');
  methodBench<import('../bench/altermoma').AlterMomaBenchOptions>(
    bench,
    'altermoma',
    'AlterMOMA vs magnitude/SNIP/SynFlow/IMP pruning of the tiny fusion teacher: mAP/NDS with 95% intervals and paired differences, FLOPs, onnxruntime latency, scoring cost',
    { trainScenes: 40, lr: 5e-4 },
    (c) =>
      c
        .option('--teacher <ref>', 'dense model to prune', 'builtin:tiny-fusion')
        .option('--seeds <list>', 'comma-separated seeds', numbers, [0, 1])
        .option('--steps <n>', 'fine-tune steps per pruned model', int, 100)
        .option('--sparsities <list>', 'unstructured sparsities', numbers, [0.8, 0.85, 0.9])
        .option('--structured-sparsities <list>', 'channel sparsities', numbers, [0.3, 0.5])
        .option('--methods <list>', 'unstructured criteria', namesOf(CRITERIA), ['altermoma', 'magnitude', 'snip', 'synflow'])
        .option('--structured-methods <list>', 'structured criteria', namesOf(CRITERIA), ['altermoma', 'magnitude', 'snip'])
        .option('--imp-rounds <k>', 'IMP: pruning rounds, the fine-tune steps split over them (density (1 − ρ)^(r/k) after round r)', integerAtLeast(1), 3)
        .option('--imp-rewind <kind>', "IMP: weights each later round starts from: 'none' (the trained ones) or 'start' (the dense ones, pruned weights zero)", oneOf(['none', 'start'] as const), 'none')
        .option('--fine-tune-kd <share>', "also fine-tune --kd-methods with response distillation from the dense model's heatmap (sigmoid MSE), its gradient norm this share of the task loss's", positiveNumber)
        .option('--kd-methods <list>', 'criteria run again with --fine-tune-kd', namesOf(CRITERIA), ['altermoma'])
        .option('--cost-models <list>', 'models whose scoring cost is measured', namesOf(['micro', 'tiny', 'small']), ['micro', 'tiny', 'small'])
        .option('--latency-repeats <n>', 'onnxruntime runs per latency (median)', int, 30)
        .option('--altermoma-options <json>', 'extra AlterMOMA plugin options as JSON, e.g. \'{"normalization":"sum","beta":1}\' for the paper\'s literal scores', (v) => parseJsonOption('--altermoma-options', v)),
    async (o) => {
      const m = loadMethodBench<typeof import('../bench/altermoma')>('../bench/altermoma', '@bevzip/plugin-altermoma');
      if (o.methods.includes('imp') && o.steps < o.impRounds) throw new BevzipError(ERROR_CODES.CONFIG, `--steps ${o.steps} is fewer than --imp-rounds ${o.impRounds}: every IMP round needs at least one fine-tune step`);
      const report = await m.benchAlterMoma(o);
      return { report, table: () => m.formatAlterMomaTable(report) };
    },
  );
  methodBench<import('../bench/prune-layers').PruneLayersBenchOptions>(
    bench,
    'prune-layers',
    'per-layer sparsity of each pruning criterion at one global sparsity (no fine-tune) against each layer\'s sensitivity: the loss increase when that layer alone is pruned to the same level; Spearman correlation per criterion (--lr and --val-frames are not used)',
    { trainScenes: 8, lr: 5e-4 },
    (c) => {
      const fraction = (open: boolean) => (v: string) => {
        const n = Number(v);
        if (v.trim() === '' || !(open ? n > 0 && n < 1 : n >= 0 && n <= 1)) throw new InvalidArgumentError(`expected a number in ${open ? '(0, 1)' : '[0, 1]'}, got '${v}'.`);
        return n;
      };
      return c
        .option('--teacher <ref>', 'dense model (random:<config> for a smoke run)', 'builtin:tiny-fusion')
        .option('--sparsity <x>', 'global unstructured sparsity', fraction(true), 0.5)
        .option('--methods <list>', 'criteria', namesOf(['altermoma', 'magnitude', 'snip', 'synflow']), ['altermoma', 'magnitude', 'snip'])
        .option('--loss-batches <n>', 'batches the loss is averaged over (frames from the scenes after the training scenes)', integerAtLeast(1), 4)
        .addOption(new Option('--within <how>', 'weights a layer pruned alone loses: magnitude (its smallest |w|) or own (the criterion\'s mask on that layer)').choices(['magnitude', 'own']).default('magnitude'))
        .addOption(new Option('--loss-term <term>', 'loss the sensitivities measure: total, detection (heatmap + reg) or map').choices(['total', 'detection', 'map']).default('total'))
        .option('--reference-level <x>', 'level of the magnitude sensitivity the correlation uses (default: --sparsity)', fraction(false))
        .option('--seed <n>', 'run and data-order seed', int, 0)
        .option('--altermoma-options <json>', 'extra AlterMOMA plugin options as JSON', (v) => parseJsonOption('--altermoma-options', v));
    },
    async (o) => {
      const m = loadMethodBench<typeof import('../bench/prune-layers')>('../bench/prune-layers', '@bevzip/plugin-altermoma');
      const report = await m.benchPruneLayers(o);
      return { report, table: () => m.formatPruneLayersTable(report) };
    },
  );
  bench
    .command('export')
    .description('the deployable artifact on the tiny fusion teacher: ONNX file sizes, onnxruntime latency of fp32 / W8A8 / W4A6 / structured 50%, integer kernels after ORT optimisation, artifact vs fake-quant NDS')
    .option('--json', 'print one JSON object instead of a table')
    .option('--out <file>', 'also write the JSON to this file')
    .option('--teacher <ref>', 'float model to compress', 'builtin:tiny-fusion')
    .option('--seed <n>', 'run and data seed', (v) => parseInt(v, 10), 0)
    .option('--calibration-batches <n>', 'PTQ calibration batches (2 frames each)', (v) => parseInt(v, 10), 4)
    .option('--val-scenes <n>', 'synthetic validation scenes (3 frames each) for NDS', (v) => parseInt(v, 10), 24)
    .option('--latency-runs <n>', 'onnxruntime runs per latency (median, interleaved)', (v) => parseInt(v, 10), 50)
    .option('--no-fixed-rig', 'read the camera geometry per frame in every file instead of baking the synthetic rig in')
    .option('--save-dir <dir>', 'also write every measured file there as <setting>.onnx')
    .action(async (o: { json?: boolean; out?: string; teacher: string; seed: number; calibrationBatches: number; valScenes: number; latencyRuns: number; fixedRig: boolean; saveDir?: string }) => {
      const { benchExport, formatExportTable } = loadMethodBench<typeof import('../bench/export')>('../bench/export', '@bevzip/plugin-qdbev', '@bevzip/plugin-altermoma');
      const r = await benchExport({ ...o, log });
      emit(r, o, () => formatExportTable(r));
    });
  methodBench<import('../bench/x3kd').X3kdBenchOptions>(
    bench,
    'x3kd',
    'X3KD ablation on a camera-only student with a frozen LiDAR teacher: no KD, X-IS, X-FD, X-AT, X-OD alone and all four; mAP/NDS of the exported students with 95% intervals and paired differences to no KD',
    { trainScenes: 16, lr: 2e-4 },
    (c) =>
      c
        .option('--student <ref>', 'camera-only student start (random:<config> trains from scratch)', 'builtin:tiny-camera')
        .option('--teacher <ref>', 'LiDAR (or fusion) teacher', 'builtin:tiny-lidar')
        .option('--seeds <list>', 'run seeds, comma-separated', numbers, [0, 1])
        .option('--steps <n>', 'training steps per variant and seed', int, 300)
        .option('--variants <list>', 'comma-separated subset of no-kd,x-is,x-fd,x-at,x-od,all', namesOf(['no-kd', 'x-is', 'x-fd', 'x-at', 'x-od', 'all']), ['no-kd', 'x-is', 'x-fd', 'x-at', 'x-od', 'all']),
    async (o) => {
      const m = loadMethodBench<typeof import('../bench/x3kd')>('../bench/x3kd', '@bevzip/plugin-x3kd');
      const report = await m.benchX3kd(o);
      return { report, table: () => m.formatX3kdTable(report) };
    },
  );
  methodBench<import('../bench/unidistill').UnidistillBenchOptions>(
    bench,
    'unidistill',
    'UniDistill over its four teacher → student settings: no KD, the feature, relation and response terms alone and all three; mAP/NDS of the exported students with 95% intervals and paired differences to each setting\'s no-KD student',
    { trainScenes: 16, lr: 2e-4 },
    (c) =>
      c
        .option('--camera-student <ref>', 'camera student start (random:<config> trains from scratch)', 'builtin:tiny-camera')
        .option('--lidar-student <ref>', 'LiDAR student start', 'builtin:tiny-lidar')
        .option('--camera-teacher <ref>', 'camera teacher (camera->lidar)', 'builtin:tiny-camera')
        .option('--lidar-teacher <ref>', 'LiDAR teacher (lidar->camera)', 'builtin:tiny-lidar')
        .option('--fusion-teacher <ref>', 'fusion teacher (fusion->camera, fusion->lidar)', 'builtin:tiny-fusion')
        .option('--settings <list>', 'comma-separated subset of lidar->camera,fusion->camera,camera->lidar,fusion->lidar', namesOf(['lidar->camera', 'fusion->camera', 'camera->lidar', 'fusion->lidar']), ['lidar->camera', 'fusion->camera', 'camera->lidar', 'fusion->lidar'])
        .option('--variants <list>', 'comma-separated subset of no-kd,feature,relation,response,all', namesOf(['no-kd', 'feature', 'relation', 'response', 'all']), ['no-kd', 'feature', 'relation', 'response', 'all'])
        .option('--seeds <list>', 'run seeds, comma-separated', numbers, [0, 1])
        .option('--steps <n>', 'training steps per setting, variant and seed', int, 300)
        .option('--unidistill-options <json>', 'extra plugin options for every KD run as JSON, e.g. \'{"feature":{"gradientShare":0.25}}\'', (v) => parseJsonOption('--unidistill-options', v)),
    async (o) => {
      const m = loadMethodBench<typeof import('../bench/unidistill')>('../bench/unidistill', '@bevzip/plugin-unidistill');
      const report = await m.benchUnidistill(o);
      return { report, table: () => m.formatUnidistillTable(report) };
    },
  );
  methodBench<Omit<import('../bench/vexkd').VexkdBenchOptions, 'students' | 'modalities'> & { camera: string; lidar: string; students: ('camera' | 'lidar')[] }>(
    bench,
    'vexkd',
    'VeXKD on camera-only and LiDAR-only students from an MGFM fusion teacher: no KD, full-map KD, masked KD; mAP/NDS of the exported students with 95% intervals and paired differences to no KD, mIoU',
    { trainScenes: 16, lr: 2e-4 },
    (c) =>
      c
        .option('--fusion <ref>', 'fusion model the VeXKD teacher starts from', 'builtin:tiny-fusion')
        .option('--camera <ref>', 'camera-only student start', 'builtin:tiny-camera')
        .option('--lidar <ref>', 'LiDAR-only student start', 'builtin:tiny-lidar')
        .option('--students <list>', 'student modalities, comma-separated', namesOf(['camera', 'lidar']), ['camera', 'lidar'])
        .option('--teacher-steps <n>', 'steps training the MGFM teacher', int, 800)
        .option('--teacher-lr <x>', 'peak learning rate of the MGFM teacher stage (cosine to 0)', positiveNumber, 1e-3)
        .option('--teacher-rest-lr-scale <x>', "multiplies --teacher-lr for the fusion model's trained parts around the MGFM", positiveNumber, 0.1)
        .option('--mask-steps <n>', 'mask-training steps (teacher frozen)', int, 100)
        .option('--seeds <list>', 'run seeds, comma-separated', numbers, [0, 1])
        .option('--steps <n>', 'student steps per variant and seed', int, 300)
        .option('--variants <list>', 'comma-separated subset of no-kd,full-map,vexkd', namesOf(['no-kd', 'full-map', 'vexkd']), ['no-kd', 'full-map', 'vexkd'])
        .option('--label <text>', 'label stored in the report (e.g. a reduced run)')
        .option('--teacher-out <dir>', 'also write the trained VeXKD teacher as a model directory (for a pipeline file)'),
    async (o) => {
      const m = loadMethodBench<typeof import('../bench/vexkd')>('../bench/vexkd', '@bevzip/plugin-vexkd');
      const { camera, lidar, students, ...rest } = o;
      const report = await m.benchVexkd({ ...rest, students: { camera, lidar }, modalities: students });
      return { report, table: () => m.formatVexkdTable(report) };
    },
  );
  methodBench<import('../bench/qdbev').QdbevBenchOptions>(
    bench,
    'qdbev',
    'QD-BEV on the tiny camera teacher: PTQ sensitivity and bit sweep, standard vs progressive QAT, VGD; mAP/NDS with 95% intervals and paired differences to float32, size, BOPs, onnxruntime QDQ latency',
    { trainScenes: 40, lr: 2e-4 },
    (c) =>
      c
        .option('--teacher <ref>', 'float model (random:<config> for a smoke run)', 'builtin:tiny-camera')
        .option('--seed <n>', 'run seed', int, 0)
        .option('--stage-steps <n>', 'QAT steps per progressive stage (standard QAT: 4×)', int, 60)
        .option('--phase2-steps <n>', 'steps of phase 2 with and without VGD', int, 60)
        .option('--calibration-batches <n>', 'calibration batches per part', integerAtLeast(1), 8)
        .option('--temperature <x>', 'VGD softmax temperature', positiveNumber, 1)
        .option('--vgd-gradient-share <x>', "VGD's share of the task gradient norm in phase 2 (default: the paper's λ = 1)", positiveNumber)
        .option('--latency-repeats <n>', 'onnxruntime runs per latency (median)', int, 30),
    async (o) => {
      const m = loadMethodBench<typeof import('../bench/qdbev')>('../bench/qdbev', '@bevzip/plugin-qdbev');
      const report = await m.benchQdbev(o);
      return { report, table: () => m.formatQdbevTable(report) };
    },
  );
  bench
    .command('teachers')
    .description('the shipped teachers (camera-only, LiDAR-only, fusion) on the standard validation split and on scenes they trained on: mAP/NDS/mIoU with 95% intervals, paired differences to LiDAR-only, learning curves from their training logs')
    .option('--json', 'print one JSON object instead of a table')
    .option('--out <file>', 'also write the JSON to this file')
    .option('--camera <ref>', 'camera-only model', 'builtin:tiny-camera')
    .option('--lidar <ref>', 'LiDAR-only model', 'builtin:tiny-lidar')
    .option('--fusion <ref>', 'fusion model', 'builtin:tiny-fusion')
    .option('--val-frames <n>', 'only the first N frames of the standard validation split (default: all 360)', integerAtLeast(1))
    .option('--train-scenes <n>', 'training scenes to measure the fit on (3 frames each, from scene 0 of data seed 0)', integerAtLeast(1), 120)
    .option('--curves <dir>', 'folder of the training event logs <name>.jsonl (npm run teachers writes them to $BEVZIP_TEACHER_WORK)')
    .action(async (o: EmitOptions & { camera: string; lidar: string; fusion: string; valFrames?: number; trainScenes: number; curves?: string }) => {
      const { benchTeachers, formatTeachersTable } = require('../bench/teachers') as typeof import('../bench/teachers');
      const r = await benchTeachers({ refs: { 'tiny-camera': o.camera, 'tiny-lidar': o.lidar, 'tiny-fusion': o.fusion }, valFrames: o.valFrames, trainScenes: o.trainScenes, curves: o.curves, log });
      emit(r, o, () => formatTeachersTable(r));
    });
  bench
    .command('kernels')
    .description(
      'wasm conv backprop kernels vs forward conv, interpreter vs plain tfjs, onnxruntime vs interpreter',
    )
    .option('--json', 'print one JSON object instead of a table')
    .option('--out <file>', 'also write the JSON to this file')
    .option('--repeats <n>', 'timed repetitions per measurement (median taken)', (v) => parseInt(v, 10), 15)
    .action(async (options: { json?: boolean; out?: string; repeats: number }) => {
      const r = await benchKernels({ repeats: options.repeats });
      emit(r, options, () =>
        [
          `backend                               ${r.backend}`,
          `Conv2DBackpropFilter / forward conv   ${r.convBackpropFilterOverForward}×   (target ≤ 1.5)`,
          `Conv2DBackpropInput / forward conv    ${r.convBackpropInputOverForward}×`,
          `max rel. error vs cpu (filter/input)  ${r.maxRelErrConvBackpropFilter.toExponential(2)} / ${r.maxRelErrConvBackpropInput.toExponential(2)}`,
          `interpreter / plain tfjs forward      ${r.interpreterOverPlainTfjs}×   (target ≤ 1.10; ${r.interpreterForwardMs} vs ${r.plainTfjsForwardMs} ms)`,
          `onnxruntime / interpreter forward     ${r.ortOverInterpreter}×   (${r.ortForwardMs} vs ${r.interpreterForwardMs} ms)`,
          `network: ${r.network}`,
          '',
        ].join('\n'),
      );
    });
  bench
    .command('train-step')
    .description(
      'median training step of the tiny fusion model (batch 2) vs its PyTorch twin at 1 and 2 threads; data-stall fraction; kernel profile',
    )
    .option('--json', 'print one JSON object instead of a table')
    .option('--out <file>', 'also write the JSON to this file')
    .option('--steps <n>', 'timed steps (median taken)', (v) => parseInt(v, 10), 10)
    .option('--no-torch', 'skip the PyTorch twin')
    .action(async (options: { json?: boolean; out?: string; steps: number; torch: boolean }) => {
      const r = await benchTrainStep({ steps: options.steps, skipTorch: !options.torch });
      emit(r, options, () => formatTrainStep(r));
    });
}
