import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { BevzipError, ERROR_CODES } from './errors';
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
export function deserializeWeights(graph: Graph, entries: WeightEntry[], bytes: Uint8Array, file = 'weights.bin'): ParamStore {
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
      values.set(p.name, tf.tensor(p.dtype === 'int32' ? new Int32Array(slice) : new Float32Array(slice), p.shape, p.dtype));
    }
    return ParamStore.fromTensors(graph, values);
  } finally {
    values.forEach((t) => t.dispose());
  }
}

/** Writes `graph.json` and `weights.bin` into `dir` (created if needed). */
export function saveGraph(dir: string, graph: Graph, params: ParamStore): void {
  fs.mkdirSync(dir, { recursive: true });
  const { json, weights } = serializeGraph(graph, params);
  fs.writeFileSync(path.join(dir, 'weights.bin'), weights!);
  fs.writeFileSync(path.join(dir, 'graph.json'), json);
}

/** Reads a directory written by {@link saveGraph}; every problem names the file and the field. */
export function loadGraph(dir: string): { graph: Graph; params: ParamStore } {
  const jsonPath = path.join(dir, 'graph.json');
  if (!fs.existsSync(jsonPath)) throw new BevzipError(ERROR_CODES.GRAPH_FILE, `${jsonPath}: no such file`);
  const { graph, entries, weightsFile, byteLength } = parseGraphJson(fs.readFileSync(jsonPath, 'utf8'), jsonPath);
  if (!entries || !weightsFile) throw new BevzipError(ERROR_CODES.GRAPH_FILE, `${jsonPath}: has no 'weights' section`);
  const binPath = path.join(dir, weightsFile);
  if (!fs.existsSync(binPath)) throw new BevzipError(ERROR_CODES.WEIGHTS_FILE, `${binPath}: no such file`);
  const bytes = fs.readFileSync(binPath);
  if (bytes.byteLength !== byteLength) {
    throw new BevzipError(ERROR_CODES.WEIGHTS_FILE, `${binPath}: is ${bytes.byteLength} bytes, ${jsonPath} says ${byteLength}`);
  }
  return { graph, params: deserializeWeights(graph, entries, new Uint8Array(bytes), binPath) };
}
