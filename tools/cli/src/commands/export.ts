import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { exportOnnx, loadGraph, stripTrainOnly } from '@bevzip/ir';
import { checkpointDir } from '../pipeline/model-ref';

/** Exports a model directory (graph.json + weights) or `builtin:<name>` to an ONNX file; returns its size in bytes. */
export function exportModel(ref: string, file: string, options: { opset?: number } = {}): number {
  const { graph, params } = loadGraph(checkpointDir(ref, process.cwd()));
  try {
    const bytes = exportOnnx(stripTrainOnly(graph), params, { opset: options.opset, producer: 'bevzip' });
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, bytes);
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
    .option('--opset <n>', 'ONNX opset', (v) => parseInt(v, 10), 17)
    .action((model: string, options: { out: string; opset: number }) => {
      const bytes = exportModel(model, options.out, { opset: options.opset });
      process.stdout.write(`wrote ${options.out} (${(bytes / 1e6).toFixed(3)} MB)\n`);
    });
}
