import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { describeRecord, NuScenesFormatError } from './errors';

/** Path of a table file: `<root>/<version>/<name>.json`. */
export function tablePath(root: string, version: string, name: string): string {
  return join(root, version, `${name}.json`);
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Reads one JSON table and validates every record against `schema`. A missing file, invalid
 * JSON, a non-array top level or a record that fails the schema is a {@link NuScenesFormatError}
 * naming the file, the record (index and token) and the field.
 */
export function readTable<S extends z.ZodType>(file: string, schema: S): z.infer<S>[] {
  if (!existsSync(file)) {
    throw new NuScenesFormatError({ file, expected: 'the table file to exist', found: 'no such file' });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new NuScenesFormatError({ file, expected: 'valid JSON', found: (err as Error).message });
  }
  if (!Array.isArray(raw)) {
    throw new NuScenesFormatError({ file, expected: 'a JSON array of records', found: typeof raw });
  }
  const out: z.infer<S>[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const parsed = schema.safeParse(raw[i]);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const rec = raw[i] as { token?: unknown } | null;
      const tok =
        rec !== null && typeof rec === 'object' && typeof rec.token === 'string' ? rec.token : undefined;
      const expected =
        'expected' in issue && typeof issue.expected === 'string' ? issue.expected : issue.message;
      throw new NuScenesFormatError({
        file,
        record: describeRecord(i, tok),
        field: issue.path.length > 0 ? issue.path.join('.') : '(record)',
        expected,
        found: describeValue(valueAt(raw[i], issue.path)),
      });
    }
    out[i] = parsed.data;
  }
  return out;
}
