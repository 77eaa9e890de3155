import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { BevzipError, ERROR_CODES, writeFileAtomic } from '@bevzip/ir';
import type { Frame } from '@bevzip/driving-data';
import {
  CONDITION_TAGS,
  conditionTags,
  sceneConditions,
  SYNTHETIC_GENERATOR_VERSION,
  type ConditionTag,
  type TaggedConditions,
} from '@bevzip/synthetic-scenes';
import { syntheticFrames, VAL_FIRST_SCENE } from './synthetic-split';

/** Which synthetic scenes make a validation split. */
export interface ValidationSplitSpec {
  dataSeed: number;
  firstScene: number;
  scenes: number;
  framesPerScene: number;
}

/**
 * The standard validation split every benchmark reports on: 120 scenes × 3 frames of data seed 0
 * from the validation range (disjoint from every training split). 120 scenes put each condition
 * group (clear, night, fog, LiDAR fault) in at least a dozen scenes.
 */
export const STANDARD_VALIDATION_SPLIT: Readonly<ValidationSplitSpec> = Object.freeze({
  dataSeed: 0,
  firstScene: VAL_FIRST_SCENE,
  scenes: 120,
  framesPerScene: 3,
});

/** Version of the cache file layout (part of the cache key). */
export const VALIDATION_CACHE_FORMAT = 1;

const MAGIC = Buffer.from('BZVALSET', 'ascii');
const DIGEST_BYTES = 32;

/** The cache folder: `$BEVZIP_CACHE_DIR`, else `$XDG_CACHE_HOME/bevzip`, else `~/.cache/bevzip`. */
export function bevzipCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BEVZIP_CACHE_DIR) return env.BEVZIP_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'bevzip');
  return path.join(os.homedir(), '.cache', 'bevzip');
}

/** Content hash naming a split's cache file: SHA-256 of (cache format, generator version, split spec). */
export function validationSplitKey(spec: ValidationSplitSpec, generatorVersion = SYNTHETIC_GENERATOR_VERSION): string {
  const canonical = JSON.stringify({
    format: VALIDATION_CACHE_FORMAT,
    generator: generatorVersion,
    dataSeed: spec.dataSeed,
    firstScene: spec.firstScene,
    scenes: spec.scenes,
    framesPerScene: spec.framesPerScene,
  });
  return crypto.createHash('sha256').update(canonical).digest('hex');
}

const ARRAY_TYPES = {
  f32: Float32Array,
  f64: Float64Array,
  i32: Int32Array,
  u8: Uint8Array,
} as const;
type ArrayTag = keyof typeof ARRAY_TYPES;
type Stored = Float32Array | Float64Array | Int32Array | Uint8Array;

function tagOf(v: ArrayBufferView): ArrayTag {
  for (const [tag, ctor] of Object.entries(ARRAY_TYPES)) if (v instanceof ctor) return tag as ArrayTag;
  throw new BevzipError(ERROR_CODES.OUTPUT, `validation cache: cannot store a ${v.constructor.name}`);
}

const headerSchema = z.object({
  format: z.literal(VALIDATION_CACHE_FORMAT),
  key: z.string(),
  generatorVersion: z.number(),
  spec: z.object({ dataSeed: z.number(), firstScene: z.number(), scenes: z.number(), framesPerScene: z.number() }),
  blobs: z.array(z.object({ type: z.enum(['f32', 'f64', 'i32', 'u8']), offset: z.number().int(), length: z.number().int() })),
  frames: z.array(z.unknown()),
});
type Header = z.infer<typeof headerSchema>;

const align4 = (n: number) => (n + 3) & ~3;

/**
 * Frames as one file: magic, a u32 header length, a JSON header (the frames with every typed array
 * replaced by a reference into the blob section), the 4-byte-aligned blobs, and the SHA-256 of all
 * preceding bytes, so any flipped or missing byte is detected on read.
 */
export function encodeFrames(frames: readonly Frame[], meta: Pick<Header, 'key' | 'generatorVersion' | 'spec'>): Buffer {
  const arrays: Stored[] = [];
  const blobs: Header['blobs'] = [];
  let offset = 0;
  const json = JSON.stringify(frames, (_k, v: unknown) => {
    if (ArrayBuffer.isView(v)) {
      const a = v as Stored;
      blobs.push({ type: tagOf(a), offset, length: a.length });
      offset = align4(offset + a.byteLength);
      arrays.push(a);
      return { $blob: blobs.length - 1 };
    }
    // JSON writes −0 as 0; kept so a cached frame is bit-identical to a generated one.
    if (Object.is(v, -0)) return { $negZero: 1 };
    if (typeof v === 'number' && !Number.isFinite(v))
      throw new BevzipError(ERROR_CODES.OUTPUT, `validation cache: a frame holds the non-finite number ${v}, which JSON cannot keep`);
    return v;
  });
  const header = Buffer.from(
    `{"format":${VALIDATION_CACHE_FORMAT},"key":${JSON.stringify(meta.key)},"generatorVersion":${meta.generatorVersion},"spec":${JSON.stringify(meta.spec)},"blobs":${JSON.stringify(blobs)},"frames":${json}}`,
    'utf8',
  );
  const start = align4(MAGIC.length + 4 + header.length);
  const out = Buffer.alloc(start + offset + DIGEST_BYTES);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(header.length, MAGIC.length);
  header.copy(out, MAGIC.length + 4);
  arrays.forEach((a, i) => {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(out, start + blobs[i].offset);
  });
  crypto.createHash('sha256').update(out.subarray(0, out.length - DIGEST_BYTES)).digest().copy(out, out.length - DIGEST_BYTES);
  return out;
}

/** Why a cache file was not used. */
export class CorruptCacheError extends Error {}

/**
 * Reads a file written by {@link encodeFrames}. Typed arrays are copied out of the file buffer so
 * they are aligned and independent of it.
 * @throws CorruptCacheError on a digest mismatch, a bad magic or an unreadable header.
 */
export function decodeFrames(bytes: Buffer): { header: Omit<Header, 'frames'>; frames: Frame[] } {
  if (bytes.length < MAGIC.length + 4 + DIGEST_BYTES) throw new CorruptCacheError(`the file has only ${bytes.length} bytes`);
  const body = bytes.subarray(0, bytes.length - DIGEST_BYTES);
  const digest = crypto.createHash('sha256').update(body).digest();
  if (!digest.equals(bytes.subarray(bytes.length - DIGEST_BYTES))) throw new CorruptCacheError('its SHA-256 does not match the digest it was written with');
  if (!body.subarray(0, MAGIC.length).equals(MAGIC)) throw new CorruptCacheError('it is not a bevzip validation-set file');
  const headerLength = body.readUInt32LE(MAGIC.length);
  const parsed = headerSchema.safeParse(JSON.parse(body.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + headerLength)));
  if (!parsed.success) throw new CorruptCacheError(`its header is not of format ${VALIDATION_CACHE_FORMAT}: ${parsed.error.issues[0]?.message}`);
  const { frames: rawFrames, ...header } = parsed.data;
  const start = align4(MAGIC.length + 4 + headerLength);
  const arrays = header.blobs.map((b) => {
    const ctor = ARRAY_TYPES[b.type];
    const from = start + b.offset;
    const bytesNeeded = b.length * ctor.BYTES_PER_ELEMENT;
    if (from + bytesNeeded > body.length) throw new CorruptCacheError('a blob reaches past the end of the file');
    const copy = new Uint8Array(bytesNeeded);
    copy.set(body.subarray(from, from + bytesNeeded));
    return new ctor(copy.buffer);
  });
  const revive = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(revive);
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const single = Object.keys(o).length === 1;
      if (single && typeof o.$blob === 'number') return arrays[o.$blob];
      if (single && o.$negZero === 1) return -0;
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, revive(x)]));
    }
    return v;
  };
  return { header, frames: rawFrames.map(revive) as Frame[] };
}

/** Options of {@link loadValidationSplit}. */
export interface LoadValidationSplitOptions {
  /** Default {@link bevzipCacheDir}. */
  cacheDir?: string;
  /** Generator version in the key (default the generator's own); only tests set it. */
  generatorVersion?: number;
  /** Status lines (generation, cache hits). */
  log?: (line: string) => void;
  /** A cache file that failed its check and is being regenerated. */
  warn?: (message: string) => void;
}

/** A validation split and where it came from. */
export interface LoadedValidationSplit {
  frames: Frame[];
  spec: ValidationSplitSpec;
  key: string;
  file: string;
  source: 'cache' | 'generated';
  /** Wall time of the load or of generating and writing the file. */
  seconds: number;
}

function checkSpec(spec: ValidationSplitSpec): void {
  for (const k of ['dataSeed', 'firstScene', 'scenes', 'framesPerScene'] as const) {
    const v = spec[k];
    const min = k === 'scenes' || k === 'framesPerScene' ? 1 : 0;
    if (!(Number.isInteger(v) && v >= min))
      throw new BevzipError(ERROR_CODES.CONFIG, `validation split: '${k}' must be an integer ≥ ${min}, got ${v}`);
  }
}

/**
 * The frames of a validation split (default {@link STANDARD_VALIDATION_SPLIT}), read from the cache
 * when a file of the split's key exists and passes its SHA-256 check, else generated and written
 * atomically. A corrupted file is reported through `warn` and replaced.
 *
 * @example
 * const { frames, source, seconds } = loadValidationSplit();
 */
export function loadValidationSplit(
  spec: Partial<ValidationSplitSpec> = {},
  options: LoadValidationSplitOptions = {},
): LoadedValidationSplit {
  const full: ValidationSplitSpec = { ...STANDARD_VALIDATION_SPLIT, ...spec };
  checkSpec(full);
  const generatorVersion = options.generatorVersion ?? SYNTHETIC_GENERATOR_VERSION;
  const key = validationSplitKey(full, generatorVersion);
  const dir = path.join(options.cacheDir ?? bevzipCacheDir(), 'validation');
  const file = path.join(dir, `${key}.bin`);
  const began = performance.now();
  const seconds = () => (performance.now() - began) / 1000;
  if (fs.existsSync(file)) {
    try {
      const { header, frames } = decodeFrames(fs.readFileSync(file));
      if (header.key !== key) throw new CorruptCacheError(`it holds the split of key ${header.key.slice(0, 12)}…`);
      options.log?.(`validation set: ${frames.length} frames read from ${file} in ${seconds().toFixed(2)} s`);
      return { frames, spec: full, key, file, source: 'cache', seconds: seconds() };
    } catch (e) {
      if (!(e instanceof CorruptCacheError || e instanceof SyntaxError)) throw e;
      options.warn?.(`validation cache file ${file} is corrupted (${e.message}); regenerating it`);
    }
  }
  const frames = syntheticFrames(full.dataSeed, full.firstScene, full.scenes, full.framesPerScene, (done, total) => {
    if (done === total || done % 20 === 0) options.log?.(`validation set: generated ${done}/${total} scenes`);
  });
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(file, encodeFrames(frames, { key, generatorVersion, spec: full }));
  options.log?.(`validation set: ${frames.length} frames generated and written to ${file} in ${seconds().toFixed(1)} s`);
  return { frames, spec: full, key, file, source: 'generated', seconds: seconds() };
}

/** A split as options name it: any field of the standard split replaced, and optionally only its first frames. */
export interface ValidationFramesSpec extends Partial<ValidationSplitSpec> {
  /** Only the first N frames (the first ⌈N / framesPerScene⌉ scenes are generated and cached). */
  valFrames?: number;
}

/** The frames an evaluation ran on. */
export interface EvaluatedSplit extends ValidationSplitSpec {
  /** `cache`/`generated`: from the split's cache; `given`: frames passed in. */
  source: 'cache' | 'generated' | 'given';
  /** Frames used (the first `frames` of the split). */
  frames: number;
  /** Seconds spent loading or generating the frames. */
  seconds: number;
}

/**
 * The full split a {@link ValidationFramesSpec} names (undefined fields: the standard split's).
 * @throws BevzipError (E_CONFIG) when `valFrames` is not an integer in [1, scenes × framesPerScene].
 */
export function resolveFramesSpec(spec: ValidationFramesSpec): ValidationSplitSpec {
  const full: ValidationSplitSpec = { ...STANDARD_VALIDATION_SPLIT };
  for (const k of ['dataSeed', 'firstScene', 'scenes', 'framesPerScene'] as const) if (spec[k] !== undefined) full[k] = spec[k];
  checkSpec(full);
  const n = spec.valFrames;
  const total = full.scenes * full.framesPerScene;
  if (n !== undefined && !(Number.isInteger(n) && n >= 1 && n <= total))
    throw new BevzipError(ERROR_CODES.CONFIG, `validation split: option 'valFrames' must be an integer in [1, ${total}] (the split has ${full.scenes} scenes × ${full.framesPerScene} frames), got ${n}`);
  return full;
}

/**
 * The frames of a split, or its first `valFrames` frames. Scenes are generated independently, so
 * the first ⌈N / framesPerScene⌉ scenes alone give the split's first N frames; that shorter split is
 * cached under its own key.
 */
export function loadValidationFrames(spec: ValidationFramesSpec = {}, options: LoadValidationSplitOptions = {}): { frames: Frame[]; split: EvaluatedSplit } {
  const full = resolveFramesSpec(spec);
  const n = spec.valFrames;
  const scenes = n === undefined ? full.scenes : Math.ceil(n / full.framesPerScene);
  const loaded = loadValidationSplit({ ...full, scenes }, options);
  const frames = n === undefined ? loaded.frames : loaded.frames.slice(0, n);
  return { frames, split: { ...full, source: loaded.source, frames: frames.length, seconds: loaded.seconds } };
}

/** Scenes of a split per condition group, from the scenes' sampled conditions (nothing is rendered). */
export function splitConditionCounts(spec: Partial<ValidationSplitSpec> = {}): Record<ConditionTag, number> {
  const full = { ...STANDARD_VALIDATION_SPLIT, ...spec };
  const counts = Object.fromEntries(CONDITION_TAGS.map((t) => [t, 0])) as Record<ConditionTag, number>;
  for (let i = 0; i < full.scenes; i++) for (const t of conditionTags(sceneConditions(full.dataSeed, full.firstScene + i))) counts[t]++;
  return counts;
}

/** The condition groups of a generated frame (from `frame.conditions`). */
export function frameConditionTags(frame: Frame): ConditionTag[] {
  return frame.conditions ? conditionTags(frame.conditions as unknown as TaggedConditions) : [];
}
