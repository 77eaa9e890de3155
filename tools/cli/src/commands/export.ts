import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { exportOnnx, loadGraph, stripTrainOnly } from '@bevzip/ir';
import { checkpointDir } from '../pipeline/model-ref';
import { writeFileAtomic } from '../pipeline/out-dir';

/**
 * Opsets whose export of the shipped models runs in onnxruntime-node 1.30 with the interpreter's
 * outputs (≤ 1e-5, measured on tiny-fusion at 16–23). Below 16 ScatterND and GridSample lack what
 * the BEV ops need; newer opsets are not yet checked against onnxruntime.
 */
export const EXPORT_OPSETS = [16, 17, 18, 19, 20, 21, 22, 23] as const;

function parseOpset(v: string): number {
  const n = Number(v);
  if (!(EXPORT_OPSETS as readonly number[]).includes(n)) {
    throw new InvalidArgumentError(`expected one of ${EXPORT_OPSETS.join(', ')} (the opsets the exporter and onnxruntime-node run with the same results), got '${v}'.`);
  }
  return n;
}

/** Exports a model directory (graph.json + weights) or `builtin:<name>` to an ONNX file; returns its size in bytes. */
export function exportModel(ref: string, file: string, options: { opset?: number } = {}): number {
  const { graph, params } = loadGraph(checkpointDir(ref, process.cwd()));
  try {
    const bytes = exportOnnx(stripTrainOnly(graph), params, { opset: options.opset, producer: 'bevzip' });
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileAtomic(file, bytes);
    return bytes.byteLength;
  } finally {
    params.dispose();
  }
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export a model folder (e.g. bevzip-out/compressed) or builtin:<name> to ONNX')
    .argument('<model>', 'model directory with graph.json, or builtin:<name>')
    .option('-o, --out <file>', 'ONNX file to write', 'model.onnx')
    .option('--opset <n>', `ONNX opset: ${EXPORT_OPSETS.join(', ')}`, parseOpset, 17)
    .action((model: string, options: { out: string; opset: number }) => {
      const bytes = exportModel(model, options.out, { opset: options.opset });
      process.stdout.write(`wrote ${options.out} (${(bytes / 1e6).toFixed(3)} MB)\n`);
    });
}
