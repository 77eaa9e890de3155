import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { benchKernels } from '../bench/kernels';

function emit(result: object, options: { json?: boolean; out?: string }, table: () => string): void {
  if (options.out) {
    fs.mkdirSync(path.dirname(options.out), { recursive: true });
    fs.writeFileSync(options.out, JSON.stringify(result, null, 2) + '\n');
  }
  process.stdout.write(options.json ? JSON.stringify(result) + '\n' : table());
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks that print measured figures (ratios from one run)');
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
}
