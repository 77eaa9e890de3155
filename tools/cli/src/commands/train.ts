import * as fs from 'node:fs';
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import {
  MODALITIES,
  MODEL_NAMES,
  trainModel,
  type ModelModality,
  type ModelName,
  type TrainModelOptions,
} from '@bevzip/bev-fusion';
import { initBackend } from '@bevzip/ir';
import { attachRunOutput } from '../progress';
import { fixed, integerAtLeast, positiveNumber } from './cli-options';

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

async function runTrain(o: TrainCliOptions): Promise<void> {
  await initBackend({});
  fs.mkdirSync(o.out, { recursive: true });
  const log = o.log ?? path.join(o.out, 'train-events.jsonl');
  const result = await trainModel({
    ...trainOptionsFromCli(o),
    log: (line) => process.stderr.write(line + '\n'),
    observe: (events) => void attachRunOutput(events, { log, progress: o.progress ? {} : false }),
  });
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
    .requiredOption('--out <dir>', 'model directory to write (graph.json, weights.bin, model.json)')
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
