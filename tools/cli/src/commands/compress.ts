import type { Command } from 'commander';
import { runCompress } from '../pipeline/run';
import type { ModelRow } from '../report/summary';

/** The results table printed at the end of a run. */
export function formatResults(models: readonly ModelRow[]): string {
  const cell = (v: number | null, d: number) => (v === null ? '—' : v.toFixed(d));
  const rows = [
    ['model', 'mAP', 'NDS', 'mIoU', 'params', 'non-zero', 'file MB', 'ORT ms'],
    ...models.map((m) => [m.name, cell(m.mAP, 4), cell(m.NDS, 4), cell(m.mIoU, 4), String(m.params), String(m.nonZero), cell(m.onnxMB, 3), cell(m.latencyMs, 1)]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const table = rows.map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ')).join('\n');
  // A note both files carry (the baked rig) is said once.
  const notes = [...new Set(models.flatMap((m) => m.notes))].map((n) => `  ${n}`);
  return notes.length ? `${table}\n\nhow the files were made:\n${notes.join('\n')}` : table;
}

/**
 * Runs `work` with SIGINT/SIGTERM turned into a stop request: the first signal stops the run at the
 * next step boundary with a checkpoint (the error then says how to resume), a second one quits at once.
 */
export async function withStopOnSignal<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\nbevzip: ${name}: stopping at the next step boundary and writing a checkpoint (${name} again quits at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function registerCompress(program: Command): void {
  program
    .command('compress')
    .description('run a compression pipeline file (JSON or YAML): stages of plugins, then ONNX export, evaluation and a report')
    .requiredOption('-p, --pipeline <file>', 'pipeline file (see examples/); each stage lists plugins as { use: <npm package>, plugin: <one of its named plugins, optional>, options }')
    .option('-o, --out <dir>', 'output folder', 'bevzip-out')
    .option('--resume', 'continue the run in <out> from its newest checkpoint; refused, naming the differences, when the pipeline, model or data are not the ones that run used, and when there is no run to continue')
    .option(
      '--plugin-dev <folder>',
      'load a plugin in development from this folder (its package.json must declare "bevzip": { "pluginApi": ... }); the pipeline names it by that package name. Repeatable',
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .action(async (options: { pipeline: string; out: string; resume?: boolean; pluginDev: string[] }) => {
      const summary = await withStopOnSignal((signal) => runCompress({ pipeline: options.pipeline, out: options.out, resume: options.resume, pluginDev: options.pluginDev, signal }));
      process.stdout.write(`\n${formatResults(summary.models)}\n\nwrote ${options.out}/summary.json and ${options.out}/report.html in ${summary.seconds.toFixed(0)} s\n`);
    });
}
