import * as fs from 'node:fs';
import { BevzipError, ERROR_CODES } from './errors';

/**
 * Writes through a temporary name and a rename, so a crash or a full disk never leaves a truncated
 * file under the real name (the previous version, if any, stays whole). A full disk, a permission
 * or a read-only file system is E_OUTPUT naming the file.
 */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') throw new BevzipError(ERROR_CODES.OUTPUT, `no space left on the device while writing '${file}'; the previous version of it, if any, is untouched`, { cause: e });
    if (code === 'EACCES' || code === 'EROFS') throw new BevzipError(ERROR_CODES.OUTPUT, `cannot write '${file}' (${code === 'EROFS' ? 'read-only file system' : 'permission denied'})`, { cause: e });
    throw e;
  }
}
