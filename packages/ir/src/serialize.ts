import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { checkpointError, manifestFor, MODEL_DIR_FORMAT, readManifest, readVerifiedFiles } from './checkpoint/manifest';
import { BevzipError, ERROR_CODES } from './errors';
import { writeFileAtomic } from './write-atomic';
import { MODALITIES, STAGES, sizeOf, type Graph } from './graph';
import { ParamStore } from './params';
import { validateGraph } from './validate';

export const GRAPH_FORMAT = 'bevzip-graph';
export const GRAPH_SCHEMA_VERSION = 1;

const dtype = z.enum(['float32', 'int32', 'bool']);
const shape = z.array(z.number().int().min(-1));
const tags = z.object({ modality: z.enum(MODALITIES).optional(), stage: z.enum(STAGES).optional(), trainOnly: z.boolean().optional() });
const attrValue = z.union([z.number(), z.string(), z.boolean(), z.array(z.number()), z.array(z.string()), z.null()]);
const initializer = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('zeros') }),
  z.object({ kind: z.literal('ones') }),
  z.object({ kind: z.literal('constant'), value: z.number() }),
  z.object({ kind: z.literal('normal'), std: z.number(), mean: z.number().optional() }),
  z.object({ kind: z.literal('uniform'), min: z.number(), max: z.number() }),
  z.object({ kind: z.literal('heNormal') }),
  z.object({ kind: z.literal('glorotUniform') }),
]);

const graphSchema = z.object({
  name: z.string(),
  inputs: z.array(z.object({ name: z.string(), shape, dtype })),
  params: z.array(
    z.object({
      name: z.string(),
      shape,
      dtype,
      init: initializer,
      trainable: z.boolean(),
      role: z.enum(['weight', 'bias', 'norm', 'state', 'embedding']),
      scope: z.string(),
      tags,
    }),
  ),
  nodes: z.array(
    z.object({
      name: z.string(),
      op: z.string(),
      inputs: z.array(z.string()),
      outputs: z.array(z.string()).min(1),
      attrs: z.record(z.string(), attrValue),
      scope: z.string(),
      tags,
    }),
  ),
  values: z.record(z.string(), z.object({ shape, dtype })),
  outputs: z.array(z.string()),
  meta: z.record(z.string(), z.unknown()).optional(),
});

const weightEntry = z.object({ name: z.string(), dtype, shape, offset: z.number().int().min(0), byteLength: z.number().int().min(0) });

const fileSchema = z.object({
  format: z.literal(GRAPH_FORMAT),
  schemaVersion: z.number().int(),
  graph: graphSchema,
  weights: z.object({ file: z.string(), byteLength: z.number().int().min(0), entries: z.array(weightEntry) }).optional(),
});

export type WeightEntry = z.infer<typeof weightEntry>;

function zodMessage(file: string, error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${file}: ${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(root)'}: ${i.message}`)
    .join('\n');
}

/** Parses and validates graph JSON text; `file` names the source in errors. */
export function parseGraphJson(text: string, file = 'graph.json'): { graph: Graph; entries?: WeightEntry[]; weightsFile?: string; byteLength?: number } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new BevzipError(ERROR_CODES.GRAPH_FILE, `${file}: not valid JSON (${(e as Error).message})`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) throw new BevzipError(ERROR_CODES.GRAPH_FILE, zodMessage(file, parsed.error));
  if (parsed.data.schemaVersion > GRAPH_SCHEMA_VERSION) {
    throw new BevzipError(ERROR_CODES.GRAPH_FILE, `${file}: schemaVersion ${parsed.data.schemaVersion} is newer than this bevzip reads (${GRAPH_SCHEMA_VERSION}); upgrade @bevzip/ir`);
  }
  const graph = parsed.data.graph as Graph;
  try {
    validateGraph(graph);
  } catch (e) {
    throw new BevzipError((e as BevzipError).code ?? ERROR_CODES.GRAPH_INVALID, `${file}: ${(e as Error).message}`, { cause: e });
  }
  const w = parsed.data.weights;
  return { graph, entries: w?.entries, weightsFile: w?.file, byteLength: w?.byteLength };
}

/** Graph JSON text and the concatenated little-endian weights, in param order. */
export function serializeGraph(graph: Graph, params?: ParamStore, weightsFile = 'weights.bin'): { json: string; weights?: Uint8Array } {
  if (!params) return { json: JSON.stringify({ format: GRAPH_FORMAT, schemaVersion: GRAPH_SCHEMA_VERSION, graph }, null, 1) };
  const entries: WeightEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const p of graph.params) {
    const data = params.get(p.name).dataSync();
    const bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    entries.push({ name: p.name, dtype: p.dtype, shape: p.shape, offset, byteLength: bytes.byteLength });
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const weights = new Uint8Array(offset);
  chunks.reduce((at, c) => (weights.set(c, at), at + c.byteLength), 0);
  const json = JSON.stringify({ format: GRAPH_FORMAT, schemaVersion: GRAPH_SCHEMA_VERSION, graph, weights: { file: weightsFile, byteLength: offset, entries } }, null, 1);
  return { json, weights };
}

/** Rebuilds a ParamStore from weights bytes, checking every entry against the graph. */
export function deserializeWeights(
  graph: Graph,
  entries: WeightEntry[],
  bytes: Uint8Array,
  file = 'weights.bin',
  /** Filled, when given, with the float params holding NaN or ±Infinity and how many such values each has. */
  nonFinite?: { name: string; count: number }[],
): ParamStore {
  const byName = new Map(entries.map((e) => [e.name, e]));
  const values = new Map<string, tf.Tensor>();
  try {
    for (const p of graph.params) {
      const e = byName.get(p.name);
      if (!e) throw new BevzipError(ERROR_CODES.WEIGHTS_FILE, `${file}: no entry for param '${p.name}'`);
      const expected = sizeOf(p.shape) * 4;
      if (e.byteLength !== expected || e.shape.join(',') !== p.shape.join(',')) {
        throw new BevzipError(ERROR_CODES.WEIGHTS_FILE, `${file}: entry '${p.name}' has shape [${e.shape}] (${e.byteLength} bytes), graph declares [${p.shape}] (${expected} bytes)`);
      }
      if (e.offset + e.byteLength > bytes.byteLength) {
        throw new BevzipError(ERROR_CODES.WEIGHTS_FILE, `${file}: is ${bytes.byteLength} bytes, but '${p.name}' needs bytes ${e.offset}..${e.offset + e.byteLength}; the file is truncated`);
      }
      const slice = bytes.slice(e.offset, e.offset + e.byteLength).buffer;
      const host = p.dtype === 'int32' ? new Int32Array(slice) : new Float32Array(slice);
      if (nonFinite && p.dtype === 'float32') {
        let count = 0;
        for (let i = 0; i < host.length; i++) if (!Number.isFinite(host[i])) count++;
        if (count > 0) nonFinite.push({ name: p.name, count });
      }
      values.set(p.name, tf.tensor(host, p.shape, p.dtype));
    }
    return ParamStore.fromTensors(graph, values);
  } finally {
    values.forEach((t) => t.dispose());
  }
}

/** The manifest of a model directory: every file with its size and SHA-256, written last. */
export const MODEL_MANIFEST = 'manifest.json';

/**
 * Writes `graph.json`, `weights.bin` and any `extraFiles` (e.g. `model.json`) into `dir` (created if
 * needed), then `manifest.json` with each file's size and SHA-256, which {@link loadGraph} checks.
 */
export function saveGraph(dir: string, graph: Graph, params: ParamStore, extraFiles: Record<string, string | Uint8Array> = {}): void {
  fs.mkdirSync(dir, { recursive: true });
  const { json, weights } = serializeGraph(graph, params);
  const files = [
    { file: 'weights.bin', bytes: weights! },
    { file: 'graph.json', bytes: Buffer.from(json, 'utf8') },
    ...Object.entries(extraFiles).map(([file, content]) => ({ file, bytes: typeof content === 'string' ? Buffer.from(content, 'utf8') : content })),
  ];
  for (const f of files) writeFileAtomic(path.join(dir, f.file), f.bytes);
  writeFileAtomic(path.join(dir, MODEL_MANIFEST), Buffer.from(manifestFor(files, MODEL_DIR_FORMAT), 'utf8'));
}

/** Writes the manifest of a model directory whose files already exist (e.g. one from an older bevzip). */
export function writeModelManifest(dir: string, files: readonly string[]): void {
  const entries = files.map((file) => ({ file, bytes: new Uint8Array(fs.readFileSync(path.join(dir, file))) }));
  writeFileAtomic(path.join(dir, MODEL_MANIFEST), Buffer.from(manifestFor(entries, MODEL_DIR_FORMAT), 'utf8'));
}

/** How a model directory was read: whether a manifest vouched for its files. */
export interface LoadedGraphDir {
  graph: Graph;
  params: ParamStore;
  /** False for a directory without manifest.json (written before manifests existed): its files were not checked. */
  verified: boolean;
}

/**
 * Reads a directory written by {@link saveGraph}; every problem names the file and the field. When
 * the directory has a manifest, every file it lists is checked (size and SHA-256) before anything is
 * parsed. Weights holding NaN or infinities are refused naming the tensors, unless `allowNonFinite`.
 */
export function loadGraph(dir: string, options: { allowNonFinite?: boolean } = {}): LoadedGraphDir {
  const jsonPath = path.join(dir, 'graph.json');
  if (!fs.existsSync(jsonPath)) throw new BevzipError(ERROR_CODES.GRAPH_FILE, `${jsonPath}: no such file`);
  const verified = fs.existsSync(path.join(dir, MODEL_MANIFEST));
  const checked = verified ? readVerifiedFiles(dir, readManifest(dir, MODEL_DIR_FORMAT)) : undefined;
  if (checked && !checked.has('graph.json')) throw checkpointError(jsonPath, `not listed in ${path.join(dir, MODEL_MANIFEST)}`);
  const text = checked ? Buffer.from(checked.get('graph.json')!).toString('utf8') : fs.readFileSync(jsonPath, 'utf8');
  const { graph, entries, weightsFile, byteLength } = parseGraphJson(text, jsonPath);
  if (!entries || !weightsFile) throw new BevzipError(ERROR_CODES.GRAPH_FILE, `${jsonPath}: has no 'weights' section`);
  // The weights live beside graph.json: a bare file name, never a path out of the directory.
  if (!/^[\w.-]+$/.test(weightsFile) || weightsFile === '.' || weightsFile === '..') {
    throw new BevzipError(ERROR_CODES.GRAPH_FILE, `${jsonPath}: weights.file '${weightsFile}' must be a file name in the same directory (no '/' or '..')`);
  }
  const binPath = path.join(dir, weightsFile);
  if (checked && !checked.has(weightsFile)) throw checkpointError(binPath, `not listed in ${path.join(dir, MODEL_MANIFEST)}`);
  if (!checked && !fs.existsSync(binPath)) throw new BevzipError(ERROR_CODES.WEIGHTS_FILE, `${binPath}: no such file`);
  const bytes = checked ? checked.get(weightsFile)! : new Uint8Array(fs.readFileSync(binPath));
  if (bytes.byteLength !== byteLength) {
    throw new BevzipError(ERROR_CODES.WEIGHTS_FILE, `${binPath}: is ${bytes.byteLength} bytes, ${jsonPath} says ${byteLength}`);
  }
  const bad: { name: string; count: number }[] = [];
  const params = deserializeWeights(graph, entries, new Uint8Array(bytes), binPath, options.allowNonFinite ? undefined : bad);
  if (!options.allowNonFinite) {
    if (bad.length > 0) {
      params.dispose();
      const list = bad.slice(0, 5).map((b) => `'${b.name}' (${b.count} value${b.count > 1 ? 's' : ''})`).join(', ');
      throw new BevzipError(ERROR_CODES.WEIGHTS_FILE, `${binPath}: NaN or infinite weights in ${bad.length} tensor(s): ${list}${bad.length > 5 ? ', …' : ''}; the model diverged or the file is damaged`);
    }
  }
  return { graph, params, verified };
}
