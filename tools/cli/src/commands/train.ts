import * as path from 'node:path';
import { Option, type Command } from 'commander';
import {
  MODALITIES,
  MODEL_NAMES,
  resolveTrainOptions,
  trainModel,
  type ModelModality,
  type ModelName,
  type TrainModelOptions,
} from '@bevzip/bev-fusion';
import { BevzipError, ERROR_CODES, initBackend } from '@bevzip/ir';
import { checkOutDir, takeOutDir } from '../pipeline/out-dir';
import { attachRunOutput } from '../progress';
import { fixed, integerAtLeast, positiveNumber } from './cli-options';
import { withStopOnSignal } from './compress';

/** `bevzip train` options as commander parses them. */
export interface TrainCliOptions {
  model: ModelName;
  modality: ModelModality;
  steps: number;
  out: string;
  from?: string;
  seed: number;
  batchSize: number;
  lr: number;
  evalEvery: number;
  checkpointEvery: number;
  resume: boolean;
  dataSeed?: number;
  trainScenes?: number;
  valScenes?: number;
  stream?: boolean;
  log?: string;
  progress: boolean;
  json?: boolean;
}

/** The library options of a `bevzip train` command line (without the event wiring). */
export function trainOptionsFromCli(o: TrainCliOptions): TrainModelOptions {
  return {
    model: o.model,
    modality: o.modality,
    from: o.from,
    steps: o.steps,
    out: o.out,
    seed: o.seed,
    batchSize: o.batchSize,
    lr: o.lr,
    evalEvery: o.evalEvery,
    checkpointEvery: o.checkpointEvery,
    resume: o.resume,
    data: { dataSeed: o.dataSeed, trainScenes: o.trainScenes, valScenes: o.valScenes, stream: o.stream },
  };
}

/** Command-line words that rerun `o` (the same run; checkpoints make it continue). */
function rerunCommand(): string {
  return ['bevzip', ...process.argv.slice(2)].map((w) => (/^[\w./:=@-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`)).join(' ');
}

async function runTrain(o: TrainCliOptions): Promise<void> {
  const library = trainOptionsFromCli(o);
  // Every option is checked before the output folder is touched.
  resolveTrainOptions(library);
  const reads = o.from && !o.from.startsWith('builtin:') ? [{ what: 'the --from model', path: o.from }] : [];
  checkOutDir(o.out, reads);
  await initBackend({});
  const lock = takeOutDir(o.out, { command: 'train', onStale: (m) => process.stderr.write(`warning: ${o.out}: ${m}\n`) });
  const log = o.log ?? path.join(o.out, 'train-events.jsonl');
  let result;
  try {
    result = await withStopOnSignal((stop) =>
      trainModel({
        ...library,
        stop,
        log: (line) => process.stderr.write(line + '\n'),
        observe: (events) => void attachRunOutput(events, { log, progress: o.progress ? {} : false }),
      }),
    );
  } catch (e) {
    if (e instanceof BevzipError && e.code === ERROR_CODES.INTERRUPTED && o.checkpointEvery > 0) {
      throw new BevzipError(ERROR_CODES.INTERRUPTED, `${e.message}; continue with: ${rerunCommand()}`, { cause: e });
    }
    if (e instanceof BevzipError && e.code === ERROR_CODES.CHECKPOINT && /cannot be resumed/.test(e.message)) {
      throw new BevzipError(ERROR_CODES.CHECKPOINT, `${e.message}. Rerun with the settings of that run to continue it, or add --no-resume to train from step 0 (its checkpoints are then replaced)`, { cause: e });
    }
    throw e;
  } finally {
    lock.release();
  }
  const m = result.metrics;
  if (o.json) {
    process.stdout.write(
      JSON.stringify({
        dir: result.dir,
        mAP: m.mAP,
        NDS: m.NDS,
        mIoU: m.mIoU,
        metrics: m,
        lossStart: result.lossStart,
        lossEnd: result.lossEnd,
      }) + '\n',
    );
    return;
  }
  process.stdout.write(
    [
      `model     ${result.dir} (${result.info.configName}, ${result.info.modality})`,
      `loss      ${fixed(result.lossStart ?? NaN)} → ${fixed(result.lossEnd ?? NaN)} (mean over the first / last steps)`,
      `val       ${m.frames} frames, ${m.runtime}: mAP ${fixed(m.mAP)}  NDS ${fixed(m.NDS)}  mIoU ${fixed(m.mIoU)}`,
      `events    ${log}`,
      '',
    ].join('\n'),
  );
}

/** Registers `bevzip train`. */
export function registerTrain(program: Command, run: (o: TrainCliOptions) => Promise<void> = runTrain): void {
  program
    .command('train')
    .description(
      'train a BEVFusion model on synthetic scenes, with progress and validation (mAP, NDS, map mIoU)',
    )
    .addOption(new Option('--model <name>', 'model size').choices(MODEL_NAMES).default('tiny'))
    .addOption(new Option('--modality <m>', 'sensors of the model').choices(MODALITIES).default('fusion'))
    .requiredOption('--steps <n>', 'optimizer steps', integerAtLeast(1))
    .requiredOption(
      '--out <dir>',
      'model directory to write (graph.json, weights.bin, model.json, manifest.json): a new or empty folder, or one an earlier `bevzip train` wrote (then its checkpoints are continued); a folder holding other files is refused',
    )
    .option('--from <ckpt>', 'start from this checkpoint (path or builtin:<name>)')
    .option('--seed <n>', 'weight init and batch order', integerAtLeast(0), 0)
    .option('--batch-size <n>', 'frames per step', integerAtLeast(1), 2)
    .option('--lr <x>', 'AdamW learning rate (cosine to 0)', positiveNumber, 1e-3)
    .option('--eval-every <n>', 'validate every n steps (0: only at the end)', integerAtLeast(0), 0)
    .option(
      '--checkpoint-every <n>',
      'resumable checkpoint every n steps into <out>/checkpoints (0: none)',
      integerAtLeast(0),
      200,
    )
    .option('--no-resume', 'start afresh even if <out>/checkpoints holds a checkpoint')
    .option('--data-seed <n>', 'seed of the synthetic scenes', integerAtLeast(0))
    .option('--train-scenes <n>', 'synthetic training scenes (3 frames each)', integerAtLeast(1))
    .option('--val-scenes <n>', 'synthetic validation scenes (3 frames each)', integerAtLeast(1))
    .option('--stream', 'draw fresh scenes every step in a worker thread instead of a fixed generated set')
    .option('--log <file>', 'JSON-lines event log (default <out>/train-events.jsonl)')
    .option('--no-progress', 'no progress output')
    .option('--json', 'print the result as one JSON object')
    .action((options: TrainCliOptions) => run(options));
}
