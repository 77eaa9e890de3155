import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { BevzipError, ERROR_CODES } from '../errors';

/** `format` field of a checkpoint's `manifest.json`. */
export const CHECKPOINT_FORMAT = 'bevzip-checkpoint';
/** `format` field of a model directory's `manifest.json` (graph, weights and model info). */
export const MODEL_DIR_FORMAT = 'bevzip-model';
export const CHECKPOINT_SCHEMA_VERSION = 1;

const entrySchema = z.object({ file: z.string().regex(/^[\w.-]+$/), size: z.number().int().min(0), sha256: z.string().regex(/^[0-9a-f]{64}$/) });

const manifestSchema = z.object({
  format: z.enum([CHECKPOINT_FORMAT, MODEL_DIR_FORMAT]),
  schemaVersion: z.number().int().min(1),
  files: z.array(entrySchema),
});

/** One file of a checkpoint as recorded in `manifest.json`. */
export type ManifestEntry = z.infer<typeof entrySchema>;
/** The content of `manifest.json`. */
export type Manifest = z.infer<typeof manifestSchema>;

/** Hex SHA-256 of some bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

/** A BevzipError E_CHECKPOINT whose message starts with the offending file. */
export function checkpointError(file: string, message: string, cause?: unknown): BevzipError {
  return new BevzipError(ERROR_CODES.CHECKPOINT, `${file}: ${message}`, cause === undefined ? undefined : { cause });
}

/** Builds the manifest text for files already written, in the order given. */
export function manifestFor(files: { file: string; bytes: Uint8Array }[], format: Manifest['format'] = CHECKPOINT_FORMAT): string {
  const manifest: Manifest = {
    format,
    schemaVersion: CHECKPOINT_SCHEMA_VERSION,
    files: files.map(({ file, bytes }) => ({ file, size: bytes.byteLength, sha256: sha256Hex(bytes) })),
  };
  return JSON.stringify(manifest, null, 1);
}

/** Reads and checks `manifest.json` of a checkpoint directory. */
export function readManifest(dir: string, format: Manifest['format'] = CHECKPOINT_FORMAT): Manifest {
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(file)) throw checkpointError(file, 'no such file; the directory is not a complete checkpoint');
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw checkpointError(file, `not valid JSON (${(e as Error).message}); the manifest is corrupted`, e);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw checkpointError(file, `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  if (parsed.data.format !== format) throw checkpointError(file, `format '${parsed.data.format}', expected '${format}'`);
  if (parsed.data.schemaVersion > CHECKPOINT_SCHEMA_VERSION) {
    throw checkpointError(file, `schemaVersion ${parsed.data.schemaVersion} is newer than this bevzip reads (${CHECKPOINT_SCHEMA_VERSION}); upgrade @bevzip/ir`);
  }
  return parsed.data;
}

/**
 * Reads every file the manifest lists and checks its size and checksum, so that a truncated or
 * corrupted checkpoint is refused before anything is parsed. Returns the bytes by file name.
 */
export function readVerifiedFiles(dir: string, manifest: Manifest): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const entry of manifest.files) {
    const file = path.join(dir, entry.file);
    if (!fs.existsSync(file)) throw checkpointError(file, 'listed in manifest.json but missing');
    const bytes = new Uint8Array(fs.readFileSync(file));
    if (bytes.byteLength !== entry.size) {
      const what = bytes.byteLength < entry.size ? 'truncated' : 'longer than recorded';
      throw checkpointError(file, `is ${bytes.byteLength} bytes but manifest.json records ${entry.size}; the file is ${what}`);
    }
    const digest = sha256Hex(bytes);
    if (digest !== entry.sha256) throw checkpointError(file, `SHA-256 ${digest} differs from ${entry.sha256} in manifest.json; the file is corrupted`);
    out.set(entry.file, bytes);
  }
  return out;
}
