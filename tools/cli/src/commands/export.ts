import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { fixedRigInputs, syntheticFrames, taskConfigForModel, type BevFusionConfig, type ModelModality } from '@bevzip/bev-fusion';
import { BevzipError, ERROR_CODES, exportOnnx, loadGraph, stripTrainOnly } from '@bevzip/ir';
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

/** Rigs a model can be exported for with its camera geometry baked in. */
export const FIXED_RIGS = ['synthetic'] as const;

/**
 * Exports a model directory (graph.json + weights) or `builtin:<name>` to an ONNX file; returns its
 * size in bytes and whether a rig was baked in: with `fixedRig`, a camera model's `cam_bev_index` is
 * that rig's (a model without cameras has nothing to bake).
 */
export function exportModel(ref: string, file: string, options: { opset?: number; fixedRig?: (typeof FIXED_RIGS)[number] } = {}): { bytes: number; rigBaked: boolean } {
  const { graph, params } = loadGraph(checkpointDir(ref, process.cwd()));
  try {
    const meta = graph.meta as { config?: BevFusionConfig; modality?: ModelModality } | undefined;
    const hasCameras = graph.inputs.some((i) => i.name === 'cam_bev_index');
    if (options.fixedRig && hasCameras && !meta?.config) throw new BevzipError(ERROR_CODES.CONFIG, `--fixed-rig: ${ref} has a cam_bev_index input but no BEVFusion config in its graph.meta, so its frustum layout is unknown`);
    // The synthetic scenes share one rig; one frame gives its geometry.
    const rig = options.fixedRig && hasCameras && meta?.config ? fixedRigInputs(syntheticFrames(0, 0, 1, 1), taskConfigForModel(meta.config, meta.modality ?? 'fusion')) : undefined;
    const bytes = exportOnnx(stripTrainOnly(graph), params, { opset: options.opset, producer: 'bevzip', constantInputs: rig });
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    writeFileAtomic(file, bytes);
    return { bytes: bytes.byteLength, rigBaked: rig !== undefined };
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
    .addOption(new Option('--fixed-rig <rig>', 'bake this camera rig\'s geometry into the file (cam_bev_index becomes a constant, not an input); for a car whose cameras do not move').choices([...FIXED_RIGS]))
    .action((model: string, options: { out: string; opset: number; fixedRig?: (typeof FIXED_RIGS)[number] }) => {
      const { bytes, rigBaked } = exportModel(model, options.out, { opset: options.opset, fixedRig: options.fixedRig });
      const rig = options.fixedRig ? (rigBaked ? `, ${options.fixedRig} camera rig baked in` : `; the model has no cameras, so --fixed-rig changed nothing`) : '';
      process.stdout.write(`wrote ${options.out} (${(bytes / 1e6).toFixed(3)} MB${rig})\n`);
    });
}
