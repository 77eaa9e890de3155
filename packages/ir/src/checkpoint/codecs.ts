import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { sizeOf } from '../graph';
import type { OptimizerState } from '../train/optimizer';
import { checkpointError } from './manifest';

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  chunks.reduce((at, c) => (out.set(c, at), at + c.byteLength), 0);
  return out;
}

function parseWith<T>(schema: z.ZodType<T>, bytes: Uint8Array, file: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'), reviveTypedArrays);
  } catch (e) {
    throw checkpointError(file, `not valid JSON (${(e as Error).message})`, e);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw checkpointError(file, `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

const span = (bin: Uint8Array, offset: number, byteLength: number, file: string, what: string): ArrayBuffer => {
  if (offset + byteLength > bin.byteLength) throw checkpointError(file, `${what} needs bytes ${offset}..${offset + byteLength} but the file has ${bin.byteLength}`);
  return bin.slice(offset, offset + byteLength).buffer;
};

const optimizerIndex = z.object({
  kind: z.enum(['sgd', 'adam', 'adamw']),
  step: z.number().int().min(0),
  params: z.array(z.object({ name: z.string(), step: z.number().int().min(0), slots: z.array(z.object({ slot: z.string(), offset: z.number().int().min(0), length: z.number().int().min(0) })) })),
});

/** `optimizer.json` (index) and `optimizer.bin` (the moments, float32 little-endian, concatenated). */
export function encodeOptimizerState(state: OptimizerState): { json: string; bin: Uint8Array } {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const params = Object.entries(state.params).map(([name, p]) => ({
    name,
    step: p.step,
    slots: Object.entries(p.slots).map(([slot, a]) => {
      chunks.push(bytesOf(a));
      const entry = { slot, offset, length: a.length };
      offset += a.byteLength;
      return entry;
    }),
  }));
  return { json: JSON.stringify({ kind: state.kind, step: state.step, params }, null, 1), bin: concat(chunks) };
}

/** Reverses {@link encodeOptimizerState}; index or blob problems name the file. */
export function decodeOptimizerState(json: Uint8Array, bin: Uint8Array, jsonFile: string, binFile: string): OptimizerState {
  const index = parseWith(optimizerIndex, json, jsonFile);
  const params: OptimizerState['params'] = {};
  for (const p of index.params) {
    const slots: Record<string, Float32Array> = {};
    for (const s of p.slots) slots[s.slot] = new Float32Array(span(bin, s.offset, s.length * 4, binFile, `'${p.name}' slot '${s.slot}'`));
    params[p.name] = { step: p.step, slots };
  }
  return { kind: index.kind, step: index.step, params };
}

const tensorEntry = z.object({ name: z.string(), dtype: z.enum(['float32', 'int32', 'bool']), shape: z.array(z.number().int().min(0)), offset: z.number().int().min(0), byteLength: z.number().int().min(0) });
const tensorIndex = z.object({ groups: z.record(z.string(), z.array(tensorEntry)) });

/**
 * Named groups of tensors (e.g. param masks and feature masks) as one JSON index and one blob of
 * concatenated raw bytes (bool as one byte per value).
 */
export function encodeTensorGroups(groups: Record<string, ReadonlyMap<string, tf.Tensor>>): { json: string; bin: Uint8Array } {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const index: Record<string, z.infer<typeof tensorEntry>[]> = {};
  for (const [group, tensors] of Object.entries(groups)) {
    index[group] = [...tensors].map(([name, t]) => {
      const bytes = bytesOf(t.dataSync() as Float32Array | Int32Array | Uint8Array);
      chunks.push(bytes);
      const entry = { name, dtype: t.dtype as 'float32' | 'int32' | 'bool', shape: t.shape, offset, byteLength: bytes.byteLength };
      offset += bytes.byteLength;
      return entry;
    });
  }
  return { json: JSON.stringify({ groups: index }, null, 1), bin: concat(chunks) };
}

/** Reverses {@link encodeTensorGroups}; the tensors belong to the caller. */
export function decodeTensorGroups(json: Uint8Array, bin: Uint8Array, jsonFile: string, binFile: string): Record<string, Map<string, tf.Tensor>> {
  const index = parseWith(tensorIndex, json, jsonFile);
  const out: Record<string, Map<string, tf.Tensor>> = {};
  try {
    for (const [group, entries] of Object.entries(index.groups)) {
      const tensors = (out[group] = new Map<string, tf.Tensor>());
      for (const e of entries) {
        const width = e.dtype === 'bool' ? 1 : 4;
        if (e.byteLength !== sizeOf(e.shape) * width) {
          throw checkpointError(jsonFile, `${group} entry '${e.name}' has ${e.byteLength} bytes, shape [${e.shape}] ${e.dtype} needs ${sizeOf(e.shape) * width}`);
        }
        const buf = span(bin, e.offset, e.byteLength, binFile, `${group} entry '${e.name}'`);
        const data = e.dtype === 'float32' ? new Float32Array(buf) : e.dtype === 'int32' ? new Int32Array(buf) : new Uint8Array(buf);
        tensors.set(e.name, tf.tensor(data, e.shape, e.dtype));
      }
    }
  } catch (e) {
    Object.values(out).forEach((m) => m.forEach((t) => t.dispose()));
    throw e;
  }
  return out;
}

const TYPED = { float32: Float32Array, float64: Float64Array, int32: Int32Array, uint8: Uint8Array } as const;
type TypedName = keyof typeof TYPED;

/**
 * JSON for free-form state (quantizers, plugin state) that keeps typed arrays bit-exact: a
 * Float32Array/Float64Array/Int32Array/Uint8Array becomes `{"$typed": "float32", "base64": …}`.
 * Tensors and functions are refused (pass `dataSync()` copies instead); non-finite numbers become null as in JSON.
 */
export function stringifyState(value: unknown, file: string): string {
  const replacer = (key: string, v: unknown): unknown => {
    if (v instanceof tf.Tensor) throw checkpointError(file, `'${key}' is a tf.Tensor; store its data (a typed array) instead`);
    if (typeof v === 'function' || typeof v === 'bigint') throw checkpointError(file, `'${key}' is a ${typeof v}, which cannot be saved`);
    for (const [name, ctor] of Object.entries(TYPED)) if (v instanceof ctor) return { $typed: name, base64: Buffer.from(bytesOf(v)).toString('base64') };
    return v;
  };
  return JSON.stringify(value, replacer, 1);
}

function reviveTypedArrays(_key: string, v: unknown): unknown {
  if (v && typeof v === 'object' && '$typed' in v && 'base64' in v && typeof v.base64 === 'string' && (v.$typed as string) in TYPED) {
    const bytes = Buffer.from(v.base64, 'base64');
    return new TYPED[v.$typed as TypedName](bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  return v;
}

/** Parses JSON written by {@link stringifyState}. */
export function parseState<T>(schema: z.ZodType<T>, bytes: Uint8Array, file: string): T {
  return parseWith(schema, bytes, file);
}
