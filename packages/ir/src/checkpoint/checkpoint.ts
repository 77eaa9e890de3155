import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Graph } from '../graph';
import type { ParamStore } from '../params';
import { deserializeWeights, parseGraphJson, serializeGraph } from '../serialize';
import type { OptimizerState } from '../train/optimizer';
import { decodeOptimizerState, decodeTensorGroups, encodeOptimizerState, encodeTensorGroups, parseState, stringifyState } from './codecs';
import { checkpointError, manifestFor, readManifest, readVerifiedFiles } from './manifest';

/** Everything a run needs to resume exactly. Tensors and the ParamStore remain the caller's. */
export interface CheckpointData {
  graph: Graph;
  params: ParamStore;
  optimizer?: OptimizerState;
  /** Pruning masks by name (param names by convention); float32, int32 or bool. */
  masks?: ReadonlyMap<string, tf.Tensor>;
  /** Masks on activations (channel/feature masks) by value name; stored beside `masks`. */
  featureMasks?: ReadonlyMap<string, tf.Tensor>;
  /** Quantizer state: JSON-compatible data; typed arrays are kept bit-exact. */
  quantizers?: unknown;
  /** The run's {@link Rng} state (`rng.getState()`). */
  rng?: number;
  /** The run's seed, so derived streams can be re-created. */
  seed?: number;
  /** Pipeline position: stage index and steps done within it. */
  position?: { stage: number; step: number };
  /** Free-form plugin state, same rules as `quantizers`. */
  extra?: Record<string, unknown>;
  /** Tensors beside `extra` (plugin-owned tensors), by name; float32, int32 or bool. */
  extraTensors?: ReadonlyMap<string, tf.Tensor>;
}

/** File names inside a checkpoint directory. */
export const CHECKPOINT_FILES = {
  graph: 'graph.json',
  weights: 'weights.bin',
  optimizer: 'optimizer.json',
  optimizerBin: 'optimizer.bin',
  masks: 'masks.json',
  masksBin: 'masks.bin',
  quantizers: 'quantizers.json',
  extraTensors: 'extra-tensors.json',
  extraTensorsBin: 'extra-tensors.bin',
  state: 'state.json',
  manifest: 'manifest.json',
} as const;

const F = CHECKPOINT_FILES;

const stateSchema = z.object({
  rng: z.number().int().min(0).max(0xffffffff).optional(),
  seed: z.number().int().optional(),
  position: z.object({ stage: z.number().int().min(0), step: z.number().int().min(0) }).optional(),
  extra: z.record(z.string(), z.unknown()).optional(),
});

function encodeFiles(data: CheckpointData): { file: string; bytes: Uint8Array }[] {
  const text = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
  const files: { file: string; bytes: Uint8Array }[] = [];
  const { json, weights } = serializeGraph(data.graph, data.params, F.weights);
  files.push({ file: F.graph, bytes: text(json) }, { file: F.weights, bytes: weights! });
  if (data.optimizer) {
    const o = encodeOptimizerState(data.optimizer);
    files.push({ file: F.optimizer, bytes: text(o.json) }, { file: F.optimizerBin, bytes: o.bin });
  }
  if (data.masks || data.featureMasks) {
    const groups: Record<string, ReadonlyMap<string, tf.Tensor>> = {};
    if (data.masks) groups.masks = data.masks;
    if (data.featureMasks) groups.featureMasks = data.featureMasks;
    const m = encodeTensorGroups(groups);
    files.push({ file: F.masks, bytes: text(m.json) }, { file: F.masksBin, bytes: m.bin });
  }
  if (data.extraTensors) {
    const x = encodeTensorGroups({ extra: data.extraTensors });
    files.push({ file: F.extraTensors, bytes: text(x.json) }, { file: F.extraTensorsBin, bytes: x.bin });
  }
  if (data.quantizers !== undefined) files.push({ file: F.quantizers, bytes: text(stringifyState(data.quantizers, F.quantizers)) });
  const state = { rng: data.rng, seed: data.seed, position: data.position, extra: data.extra };
  files.push({ file: F.state, bytes: text(stringifyState(state, F.state)) });
  return files;
}

function writeDurably(file: string, bytes: Uint8Array): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes a checkpoint directory atomically: everything goes to `${dir}.tmp-<pid>` (each file
 * fsynced, `manifest.json` last) which is then renamed to `dir`. An existing `dir` is moved aside to
 * `${dir}.old-<pid>` only once the new one is complete, and removed after the swap, so a failure at
 * any point leaves either the old or the new checkpoint readable.
 */
export function writeCheckpoint(dir: string, data: CheckpointData): void {
  const target = path.resolve(dir);
  const tmp = `${target}.tmp-${process.pid}`;
  const old = `${target}.old-${process.pid}`;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);
  try {
    const files = encodeFiles(data);
    for (const { file, bytes } of files) writeDurably(path.join(tmp, file), bytes);
    writeDurably(path.join(tmp, F.manifest), Buffer.from(manifestFor(files), 'utf8'));
    syncDir(tmp);
    if (fs.existsSync(target)) {
      fs.rmSync(old, { recursive: true, force: true });
      fs.renameSync(target, old);
    }
    fs.renameSync(tmp, target);
    syncDir(path.dirname(target));
    fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(target) && fs.existsSync(old)) fs.renameSync(old, target);
    throw e;
  }
}

function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads a checkpoint written by {@link writeCheckpoint}. Every file is checked against the manifest
 * (size, SHA-256) before parsing; any problem is a BevzipError E_CHECKPOINT naming the file. The
 * returned ParamStore and mask tensors belong to the caller.
 */
export function readCheckpoint(dir: string): CheckpointData {
  if (!fs.existsSync(dir)) {
    const leftovers = fs.existsSync(path.dirname(path.resolve(dir))) ? fs.readdirSync(path.dirname(path.resolve(dir))).filter((n) => n.startsWith(`${path.basename(dir)}.old-`)) : [];
    const hint = leftovers.length ? `; a previous version was left at ${leftovers.join(', ')} by an interrupted write` : '';
    throw checkpointError(dir, `no such checkpoint directory${hint}`);
  }
  const files = readVerifiedFiles(dir, readManifest(dir));
  const need = (name: string): Uint8Array => {
    const bytes = files.get(name);
    if (!bytes) throw checkpointError(path.join(dir, name), 'not listed in manifest.json; the checkpoint is incomplete');
    return bytes;
  };
  const at = (name: string) => path.join(dir, name);
  const graphPath = at(F.graph);
  let parsedGraph: ReturnType<typeof parseGraphJson>;
  try {
    parsedGraph = parseGraphJson(Buffer.from(need(F.graph)).toString('utf8'), graphPath);
  } catch (e) {
    throw checkpointError(graphPath, (e as Error).message, e);
  }
  const { graph, entries } = parsedGraph;
  if (!entries) throw checkpointError(graphPath, "has no 'weights' section");
  const state = parseState(stateSchema, need(F.state), at(F.state));
  const optimizer = files.has(F.optimizer) ? decodeOptimizerState(need(F.optimizer), need(F.optimizerBin), at(F.optimizer), at(F.optimizerBin)) : undefined;
  const quantizers = files.has(F.quantizers) ? parseState(z.unknown(), need(F.quantizers), at(F.quantizers)) : undefined;
  let params: ParamStore;
  try {
    params = deserializeWeights(graph, entries, need(F.weights), at(F.weights));
  } catch (e) {
    throw checkpointError(at(F.weights), (e as Error).message, e);
  }
  let groups: Record<string, Map<string, tf.Tensor>> = {};
  let extra: Record<string, Map<string, tf.Tensor>> = {};
  try {
    if (files.has(F.masks)) groups = decodeTensorGroups(need(F.masks), need(F.masksBin), at(F.masks), at(F.masksBin));
    if (files.has(F.extraTensors)) extra = decodeTensorGroups(need(F.extraTensors), need(F.extraTensorsBin), at(F.extraTensors), at(F.extraTensorsBin));
  } catch (e) {
    params.dispose();
    Object.values(groups).forEach((m) => m.forEach((t) => t.dispose()));
    throw e;
  }
  return { graph, params, optimizer, masks: groups.masks, featureMasks: groups.featureMasks, quantizers, ...state, extraTensors: extra.extra };
}

/** `root/step-000123`: the directory name runs use for the checkpoint after `step` steps. */
export function checkpointPath(root: string, step: number): string {
  return path.join(root, `step-${String(step).padStart(6, '0')}`);
}

/** Numeric parts of a checkpoint directory name (`step-000123` → [123], `ckpt-001-000000040` → [1, 40]). */
function checkpointKey(name: string): number[] | undefined {
  const m = /^[a-z]+((?:-\d+)+)$/i.exec(name);
  return m ? m[1].slice(1).split('-').map(Number) : undefined;
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * The newest complete checkpoint under `root`, or undefined. Directories named `<word>-<n>[-<n>…]`
 * (`step-000123`, or `ckpt-<stage>-<step>`) are ordered by their numbers, not as text; those without
 * a manifest, and temp or moved-aside ones (`.tmp-<pid>`, `.old-<pid>`), are ignored.
 */
export function latestCheckpoint(root: string): string | undefined {
  if (!fs.existsSync(root)) return undefined;
  let best: { key: number[]; dir: string } | undefined;
  for (const name of fs.readdirSync(root)) {
    const key = checkpointKey(name);
    if (!key) continue;
    const dir = path.join(root, name);
    if (!fs.existsSync(path.join(dir, F.manifest))) continue;
    if (!best || compareKeys(key, best.key) > 0) best = { key, dir };
  }
  return best?.dir;
}
