import { BevzipError, ERROR_CODES, type ErrorCode } from '@bevzip/ir';
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';

/** Text without a leading UTF-8 byte-order mark (editors on Windows write one). */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** 1-based line and column of a character offset. */
export function lineCol(text: string, offset: number): { line: number; col: number } {
  const lines = text.slice(0, Math.max(0, Math.min(offset, text.length))).split('\n');
  return { line: lines.length, col: lines[lines.length - 1].length + 1 };
}

/**
 * Parses strict JSON text (a BOM accepted); a syntax error becomes `file:line:col: not valid JSON
 * (what was found)`. JSON.parse names no position for many errors, so a JSON scanner finds it.
 */
export function parseJsonText(text: string, file: string, code: ErrorCode = ERROR_CODES.CONFIG): unknown {
  const body = withoutBom(text);
  try {
    return JSON.parse(body);
  } catch (e) {
    const errors: ParseError[] = [];
    parse(body, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    const first = errors[0];
    const at = first && lineCol(body, first.offset);
    const where = at ? `:${at.line}:${at.col}` : '';
    const what = first ? printParseErrorCode(first.error).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase() : (e as Error).message;
    throw new BevzipError(code, `${file}${where}: not valid JSON (${what})`, { cause: e });
  }
}
