/** JSON with object keys sorted at every level, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

function leaves(value: unknown, at: string, out: Map<string, string>): void {
  if (value && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [`[${i}]`, v] as const) : Object.entries(value).map(([k, v]) => [at ? `.${k}` : k, v] as const);
    if (entries.length === 0) out.set(at || '(root)', canonicalJson(value));
    for (const [k, v] of entries) leaves(v, at + k, out);
  } else if (value !== undefined) out.set(at || '(root)', canonicalJson(value));
}

/** One field that differs between two fingerprints: its path and both values as JSON (`undefined` when absent). */
export interface FingerprintDifference {
  field: string;
  stored?: string;
  current?: string;
}

/** The fields (as dotted paths to leaves, e.g. `stages[1].plugins[0].options.sparsity`) whose values differ. */
export function fingerprintDifferences(stored: unknown, current: unknown): FingerprintDifference[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  leaves(JSON.parse(canonicalJson(stored ?? null)), '', a);
  leaves(JSON.parse(canonicalJson(current ?? null)), '', b);
  const fields = [...new Set([...a.keys(), ...b.keys()])].sort();
  return fields.filter((f) => a.get(f) !== b.get(f)).map((field) => ({ field, stored: a.get(field), current: b.get(field) }));
}

/** `field (was X, now Y)` lines, at most `limit` then a count of the rest. */
export function describeDifferences(diffs: readonly FingerprintDifference[], limit = 8): string {
  const shown = diffs.slice(0, limit).map((d) => `${d.field} (checkpoint: ${d.stored ?? 'absent'}, now: ${d.current ?? 'absent'})`);
  if (diffs.length > limit) shown.push(`and ${diffs.length - limit} more`);
  return shown.join('; ');
}
