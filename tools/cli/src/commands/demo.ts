import * as path from 'node:path';
import type { Command } from 'commander';
import { runCompress } from '../pipeline/run';
import { withStopOnSignal } from './compress';
import { formatResults } from './compress';

/** The demo pipelines ship with the CLI package (`demo/`), beside `dist/`. */
export const DEMO_PIPELINES = {
  full: path.join(__dirname, '..', '..', 'demo', 'full.yaml'),
  quick: path.join(__dirname, '..', '..', 'demo', 'quick.yaml'),
};

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'compress the shipped tiny fusion teacher on synthetic scenes: AlterMOMA 80% pruning + fine-tune, then QD-BEV progressive W4A6 QAT with view-guided distillation; export, evaluate dense vs compressed in onnxruntime, write a report',
    )
    .option('--quick', 'a ~2-minute version with a few steps per stage')
    .option('-o, --out <dir>', 'output folder', 'bevzip-out')
    .action(async (options: { quick?: boolean; out: string }) => {
      const pipeline = options.quick ? DEMO_PIPELINES.quick : DEMO_PIPELINES.full;
      process.stdout.write(`bevzip demo: ${path.relative(process.cwd(), pipeline) || pipeline}\n`);
      const summary = await withStopOnSignal((signal) => runCompress({ pipeline, out: options.out, signal }));
      process.stdout.write(`\n${formatResults(summary.models)}\n\nreport: ${path.join(options.out, 'report.html')} (summary.json beside it), ${summary.seconds.toFixed(0)} s\n`);
    });
}
