import * as fs from 'node:fs';
import * as path from 'node:path';
import { BevzipError, ERROR_CODES } from '@bevzip/ir';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { parseJsonText, withoutBom } from './json-text';
import { pipelineFileSchema, type PipelineFile } from './schema';

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/** A pipeline file read and validated, with where it came from (plugin paths resolve against `dir`). */
export interface LoadedPipelineFile {
  file: string;
  dir: string;
  pipeline: PipelineFile;
  /** The file's text, kept for the report. */
  text: string;
}

/** `stages[1].plugins[0].use` */
export function formatPath(p: Path): string {
  if (p.length === 0) return '(root)';
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('');
}

/**
 * A union branch the value was clearly written for: no complaint about the value itself and no
 * missing top-level key (those mean "this is another alternative"), so its deeper issues are the
 * ones to show rather than the union's summary.
 */
function matchedBranch(branches: Issue[][]): Issue[] | undefined {
  const fits = branches.filter((issues) => issues.every((i) => i.path.length > 1 || (i.path.length === 1 && !(i.code === 'invalid_type' && i.message.endsWith('received undefined')))));
  return fits.length === 1 ? fits[0] : undefined;
}

/** Zod issues with union failures replaced by the issues of the branch that was meant, paths absolute. */
export function flattenIssues(issues: readonly Issue[], prefix: Path = []): { path: Path; message: string; key?: string }[] {
  return issues.flatMap((issue) => {
    const at = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union') {
      const branch = matchedBranch(issue.errors as Issue[][]);
      if (branch) return flattenIssues(branch, at);
    }
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: at, key, message: `unknown field '${key}'` }));
    }
    return [{ path: at, message: issue.message.replace(/^Invalid input: /, '').replace(/^Invalid option: /, '') }];
  });
}

/** The 1-based line and column of the node at `p` (or of its nearest existing ancestor, or of `key` in it). */
function locate(doc: Document, lines: LineCounter, p: Path, key?: string): { line: number; col: number } | undefined {
  for (let n = p.length; n >= 0; n--) {
    const node = doc.getIn(p.slice(0, n) as unknown[], true) as Node | undefined;
    if (!node?.range) continue;
    let offset = node.range[0];
    if (key !== undefined && n === p.length && isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && it.key.value === key);
      if (pair && isScalar(pair.key) && pair.key.range) offset = pair.key.range[0];
    }
    return lines.linePos(offset);
  }
  return undefined;
}

/** The 1-based line and column of the value at `p` in pipeline text (or of its nearest existing ancestor). */
export function positionOf(text: string, p: Path): { line: number; col: number } | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  return locate(doc, lines, p);
}

/**
 * Parses and validates pipeline text (YAML, which includes JSON). Every problem is reported at
 * once, each as `file:line:col: path: what was expected`.
 * @throws BevzipError (E_CONFIG) for syntax errors and schema violations.
 */
export function parsePipelineText(text: string, file: string): PipelineFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const msgs = doc.errors.map((e) => {
      const pos = lines.linePos(e.pos[0]);
      return `${file}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`;
    });
    throw new BevzipError(ERROR_CODES.CONFIG, `invalid pipeline file:\n  ${msgs.join('\n  ')}`);
  }
  const parsed = pipelineFileSchema.safeParse(doc.toJS());
  if (parsed.success) return parsed.data;
  const msgs = flattenIssues(parsed.error.issues).map(({ path: p, message, key }) => {
    const pos = locate(doc, lines, p, key);
    return `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${formatPath(key !== undefined ? [...p, key] : p)}: ${message}`;
  });
  throw new BevzipError(ERROR_CODES.CONFIG, `invalid pipeline file:\n  ${msgs.join('\n  ')}`);
}

/**
 * Reads a pipeline file (`.json`, `.yaml` or `.yml`).
 * @throws BevzipError (E_CONFIG) when it is missing, unreadable or invalid.
 */
export function loadPipelineFile(file: string): LoadedPipelineFile {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) throw new BevzipError(ERROR_CODES.CONFIG, `pipeline file ${file}: no such file`);
  const ext = path.extname(abs).toLowerCase();
  if (!['.json', '.yaml', '.yml'].includes(ext)) throw new BevzipError(ERROR_CODES.CONFIG, `pipeline file ${file}: expected a .json, .yaml or .yml file`);
  const text = withoutBom(fs.readFileSync(abs, 'utf8'));
  if (ext === '.json') {
    try {
      parseJsonText(text, file);
    } catch (e) {
      throw new BevzipError(ERROR_CODES.CONFIG, `invalid pipeline file:\n  ${(e as Error).message}`, { cause: e });
    }
  }
  return { file: abs, dir: path.dirname(abs), pipeline: parsePipelineText(text, file), text };
}
