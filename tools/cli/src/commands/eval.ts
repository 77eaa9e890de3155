import { Option, type Command } from 'commander';
import { evaluateCheckpoint, type CheckpointEvaluation, type EvalRuntime } from '@bevzip/bev-fusion';
import { initBackend } from '@bevzip/ir';
import { compareEvaluations, FRAME_METRICS, type PairedBootstrapResult } from '@bevzip/driving-data';
import { BOOTSTRAP_PROTOCOL } from '../bench/protocol';
import { fixed, integerAtLeast } from './cli-options';

/** `bevzip eval` options as commander parses them. */
export interface EvalCliOptions {
  ckpt: string;
  json?: boolean;
  runtime: EvalRuntime;
  dataSeed?: number;
  valScenes?: number;
  valFrames?: number;
}

/** An evaluation with the 95% bootstrap interval of each metric. */
export type EvalWithIntervals = CheckpointEvaluation & { intervals: Record<string, { lo: number; hi: number }>; bootstrap: Pick<PairedBootstrapResult, 'resamples' | 'seed' | 'confidence'> };

/** Adds the protocol's paired-bootstrap intervals (seeded, 1000 resamples) to an evaluation. */
export function withIntervals(r: CheckpointEvaluation): EvalWithIntervals {
  const b = compareEvaluations({ model: [r.perFrame] }, BOOTSTRAP_PROTOCOL);
  const intervals = Object.fromEntries(FRAME_METRICS.map((m) => [m, { lo: b.models.model[m].lo, hi: b.models.model[m].hi }]));
  return { ...r, intervals, bootstrap: { resamples: b.resamples, seed: b.seed, confidence: b.confidence } };
}

const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

/** The JSON `bevzip eval --json` prints: `mAP`, `NDS` and `mIoU` at the top level. */
export function evalJson(r: EvalWithIntervals): Record<string, unknown> {
  return {
    mAP: r.mAP,
    NDS: r.NDS,
    mIoU: Number.isFinite(r.mIoU) ? r.mIoU : null,
    mATE: r.mATE,
    mASE: r.mASE,
    mAOE: r.mAOE,
    mAVE: r.mAVE,
    mAAE: r.mAAE,
    checkpoint: r.checkpoint,
    dir: r.dir,
    model: r.model,
    frames: r.frames,
    dataSeed: r.dataSeed,
    runtime: r.runtime,
    classes: r.classes,
    classAps: r.classAps,
    gtCounts: r.gtCounts,
    intervals: Object.fromEntries(Object.entries(r.intervals).map(([m, i]) => [m, { lo: finiteOrNull(i.lo), hi: finiteOrNull(i.hi) }])),
    bootstrap: r.bootstrap,
    split: r.split,
  };
}

/** The human-readable report of an evaluation: each metric with its 95% bootstrap interval. */
export function evalTable(r: EvalWithIntervals): string {
  const sp = r.split;
  const whole = sp.scenes * sp.framesPerScene;
  const part = r.frames < whole ? `the first ${r.frames} of ${whole} frames` : `${r.frames} frames`;
  const metric = (label: string, key: string) => {
    const i = r.intervals[key];
    const iv = i && Number.isFinite(i.lo) ? `  [${fixed(i.lo)}, ${fixed(i.hi)}]` : '';
    return `${label.padEnd(12)}${fixed((r as unknown as Record<string, number>)[key])}${iv}`;
  };
  const rows = [
    `checkpoint  ${r.checkpoint} (${r.model})`,
    `val set     ${part} (${sp.scenes} scenes × ${sp.framesPerScene}, data seed ${sp.dataSeed}, ${sp.source === 'cache' ? 'cached' : sp.source}), run in ${r.runtime}`,
    `intervals   ${Math.round(r.bootstrap.confidence * 100)}% bootstrap over the ${r.frames} frames, ${r.bootstrap.resamples} resamples, seed ${r.bootstrap.seed}`,
    metric('mAP', 'mAP'),
    metric('NDS', 'NDS'),
    metric('mATE', 'mATE'),
    metric('mASE', 'mASE'),
    metric('mAOE', 'mAOE'),
    metric('mAVE', 'mAVE'),
    metric('mAAE', 'mAAE'),
    metric('map mIoU', 'mIoU'),
    `AP by class ${r.classes.map((c) => `${c} ${fixed(r.classAps[c])} (${r.gtCounts[c]} gt)`).join(', ')}`,
  ];
  return rows.join('\n') + '\n';
}

async function runEval(o: EvalCliOptions): Promise<void> {
  await initBackend({ quiet: o.json });
  const r = await evaluateCheckpoint(o.ckpt, {
    runtime: o.runtime,
    dataSeed: o.dataSeed,
    valScenes: o.valScenes,
    valFrames: o.valFrames,
    log: o.json ? undefined : (line) => process.stderr.write(line + '\n'),
    warn: (message) => process.stderr.write(`warning: ${message}\n`),
    onFallback: (reason) => process.stderr.write(`warning: ${reason}\n`),
  });
  const withCi = withIntervals(r);
  process.stdout.write(o.json ? JSON.stringify(evalJson(withCi)) + '\n' : evalTable(withCi));
}

/** Registers `bevzip eval`. */
export function registerEval(program: Command, run: (o: EvalCliOptions) => Promise<void> = runEval): void {
  program
    .command('eval')
    .description(
      'evaluate a model checkpoint on the standard synthetic validation split (120 scenes × 3 frames, all conditions, cached on disk): mAP, NDS, the five TP errors and map mIoU, each with its 95% bootstrap interval',
    )
    .requiredOption(
      '--ckpt <dir>',
      'model directory or builtin:tiny-fusion | builtin:tiny-camera | builtin:tiny-lidar',
    )
    .option('--json', 'print one JSON object (keys mAP, NDS, mIoU at the top level)')
    .addOption(
      new Option('--runtime <r>', 'where the model runs')
        .choices(['auto', 'onnxruntime', 'interpreter'])
        .default('auto'),
    )
    .option('--data-seed <n>', 'seed of the validation scenes (default: 0, the standard split)', integerAtLeast(0))
    .option('--val-scenes <n>', 'validation scenes, 3 frames each (default: 120, the standard split)', integerAtLeast(1))
    .option('--val-frames <n>', 'only the first N frames of the split, for a quick look (default: all)', integerAtLeast(1))
    .addHelpText(
      'after',
      '\nThe split is generated once and cached in $BEVZIP_CACHE_DIR, else $XDG_CACHE_HOME/bevzip, else ~/.cache/bevzip.\nIntervals: paired bootstrap over the frames, 1000 resamples, seed 0 (benchmarks/README.md).',
    )
    .action((options: EvalCliOptions) => run(options));
}
