import { Option, type Command } from 'commander';
import { evaluateCheckpoint, type CheckpointEvaluation, type EvalRuntime } from '@bevzip/bev-fusion';
import { initBackend } from '@bevzip/ir';
import { fixed, integerAtLeast } from './cli-options';

/** `bevzip eval` options as commander parses them. */
export interface EvalCliOptions {
  ckpt: string;
  json?: boolean;
  runtime: EvalRuntime;
  dataSeed?: number;
  valScenes?: number;
}

/** The JSON `bevzip eval --json` prints: `mAP`, `NDS` and `mIoU` at the top level. */
export function evalJson(r: CheckpointEvaluation): Record<string, unknown> {
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
  };
}

/** The human-readable report of an evaluation. */
export function evalTable(r: CheckpointEvaluation): string {
  const rows = [
    `checkpoint  ${r.checkpoint} (${r.model})`,
    `val set     ${r.frames} synthetic frames, data seed ${r.dataSeed}, run in ${r.runtime}`,
    `mAP         ${fixed(r.mAP)}`,
    `NDS         ${fixed(r.NDS)}`,
    `mATE        ${fixed(r.mATE)}`,
    `mASE        ${fixed(r.mASE)}`,
    `mAOE        ${fixed(r.mAOE)}`,
    `mAVE        ${fixed(r.mAVE)}`,
    `mAAE        ${fixed(r.mAAE)}`,
    `map mIoU    ${fixed(r.mIoU)}`,
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
    log: o.json ? undefined : (line) => process.stderr.write(line + '\n'),
    onFallback: (reason) => process.stderr.write(`warning: ${reason}\n`),
  });
  process.stdout.write(o.json ? JSON.stringify(evalJson(r)) + '\n' : evalTable(r));
}

/** Registers `bevzip eval`. */
export function registerEval(program: Command, run: (o: EvalCliOptions) => Promise<void> = runEval): void {
  program
    .command('eval')
    .description(
      'evaluate a model checkpoint on the synthetic validation set: mAP, NDS, the five TP errors, map mIoU',
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
    .option(
      '--data-seed <n>',
      'seed of the validation scenes (default: the one the model was trained with)',
      integerAtLeast(0),
    )
    .option('--val-scenes <n>', 'validation scenes, 3 frames each (default: as trained)', integerAtLeast(1))
    .action((options: EvalCliOptions) => run(options));
}
