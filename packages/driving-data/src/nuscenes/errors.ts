/**
 * Where a piece of bad nuScenes-format input was found. Every field is optional because some
 * problems (a missing file) have no record, and others (a dangling token) have no file offset.
 */
export interface NuScenesErrorLocation {
  /** Path of the offending file, as given or relative to the dataset root. */
  file: string;
  /** Record index and/or token, e.g. `#3 (token 9f1c…)`. */
  record?: string;
  /** Field name inside the record, dotted for nested values. */
  field?: string;
  /** What a valid value would have been. */
  expected: string;
  /** What was found instead, when it helps. */
  found?: string;
}

/**
 * Raised for any malformed nuScenes-format input: missing tables, schema violations, dangling
 * foreign keys, truncated point clouds, images of the wrong size and unknown categories.
 * The message names the file, record, field and what was expected; the same facts are kept as
 * properties so callers can react programmatically.
 */
export class NuScenesFormatError extends Error {
  readonly file: string;
  readonly record?: string;
  readonly field?: string;
  readonly expected: string;
  readonly found?: string;

  constructor(location: NuScenesErrorLocation) {
    const parts = [location.file];
    if (location.record !== undefined) parts.push(`record ${location.record}`);
    if (location.field !== undefined) parts.push(`field "${location.field}"`);
    const found = location.found !== undefined ? `, found ${location.found}` : '';
    super(`${parts.join(', ')}: expected ${location.expected}${found}`);
    this.name = 'NuScenesFormatError';
    this.file = location.file;
    this.record = location.record;
    this.field = location.field;
    this.expected = location.expected;
    this.found = location.found;
  }
}

/** Human-readable label of a table record for error messages. */
export function describeRecord(index: number, token?: string): string {
  return token === undefined ? `#${index}` : `#${index} (token ${token})`;
}
