import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BevzipError, ERROR_CODES, processAlive, writeFileAtomic } from '@bevzip/ir';

/**
 * Marks a folder as bevzip's output: a run only ever writes into, deletes in, or overwrites in a
 * folder that is new, empty, or holds this file.
 */
export const RUN_MARKER = 'bevzip-run.json';
/** Held by the run writing into the folder; a second run into it refuses to start. */
export const LOCK_FILE = '.bevzip.lock';

interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
}

const inside = (child: string, parent: string) => {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/**
 * Checks, before anything is written, that a run may use `out`: a folder (or a path that can become
 * one), writable, new or empty or marked as bevzip's, and not holding any input the run reads.
 * @throws BevzipError E_OUTPUT naming the folder and what is wrong.
 */
export function checkOutDir(out: string, reads: readonly { what: string; path: string }[]): void {
  for (const r of reads) {
    if (inside(path.resolve(r.path), out)) {
      throw new BevzipError(ERROR_CODES.OUTPUT, `${r.what} is read from '${r.path}', inside the output folder '${out}', which this run overwrites; copy it elsewhere or choose another --out`);
    }
  }
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(out);
  } catch {
    stat = undefined;
  }
  if (stat && !stat.isDirectory()) throw new BevzipError(ERROR_CODES.OUTPUT, `--out '${out}' is a file, not a folder`);
  if (stat) {
    const entries = fs.readdirSync(out).filter((e) => e !== LOCK_FILE);
    if (entries.length > 0 && !entries.includes(RUN_MARKER)) {
      const shown = entries.slice(0, 4).join(', ') + (entries.length > 4 ? `, … (${entries.length} entries)` : '');
      throw new BevzipError(
        ERROR_CODES.OUTPUT,
        `--out '${out}' is not empty and is not a bevzip output folder (no ${RUN_MARKER}): it holds ${shown}. bevzip never deletes or overwrites what it did not write; choose a new or empty folder`,
      );
    }
  }
  // The nearest existing ancestor must be writable for the folder (and its files) to be made.
  let existing = out;
  while (!fs.existsSync(existing)) existing = path.dirname(existing);
  if (!fs.statSync(existing).isDirectory()) throw new BevzipError(ERROR_CODES.OUTPUT, `--out '${out}': '${existing}' is a file, so no folder can be made under it`);
  // A real probe rather than access(2): permission bits say nothing for root or on special file systems.
  try {
    fs.rmdirSync(fs.mkdtempSync(path.join(existing, '.bevzip-probe-')));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EROFS' ? 'read-only file system' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? String(e));
    throw new BevzipError(ERROR_CODES.OUTPUT, `--out '${out}': cannot write to '${existing}' (${why})`, { cause: e });
  }
}

/**
 * Makes the folder, takes its lock and marks it as bevzip's. A lock left by a process that no longer
 * runs on this host is taken over (`onStale` says so); a live one is refused, naming its holder.
 * @returns release(), which drops the lock (call it in a finally).
 */
export function takeOutDir(out: string, options: { command: string; onStale?: (message: string) => void }): { release: () => void } {
  fs.mkdirSync(out, { recursive: true });
  const lock = path.join(out, LOCK_FILE);
  const mine: LockInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(lock, JSON.stringify(mine) + '\n', { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
      let held: Partial<LockInfo> = {};
      try {
        held = JSON.parse(fs.readFileSync(lock, 'utf8')) as LockInfo;
      } catch {
        held = {};
      }
      const sameHost = held.host === mine.host;
      if (typeof held.pid === 'number' && (!sameHost || processAlive(held.pid))) {
        throw new BevzipError(
          ERROR_CODES.OUTPUT,
          `--out '${out}' is in use by another bevzip run (pid ${held.pid} on ${held.host ?? '?'}, since ${held.startedAt ?? '?'}); wait for it, or choose another --out. If that run is gone, delete ${lock}`,
        );
      }
      options.onStale?.(`took over the lock of a bevzip run that is no longer running (pid ${held.pid ?? '?'}, since ${held.startedAt ?? '?'})`);
      fs.rmSync(lock, { force: true });
    }
  }
  const marker = path.join(out, RUN_MARKER);
  writeFileAtomic(marker, JSON.stringify({ format: 'bevzip-run', version: 1, command: options.command, pid: mine.pid, startedAt: mine.startedAt }, null, 2) + '\n');
  return {
    release: () => {
      try {
        const held = JSON.parse(fs.readFileSync(lock, 'utf8')) as LockInfo;
        if (held.pid === mine.pid) fs.rmSync(lock, { force: true });
      } catch {
        // Already gone.
      }
    },
  };
}

/** Re-exported so CLI code writes every output the same way. */
export { writeFileAtomic };

/** Replaces a folder's content as a whole: writes into a temporary sibling, then swaps it in. */
export function replaceDirAtomic(dir: string, write: (tmp: string) => void): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    write(tmp);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  fs.rmSync(old, { recursive: true, force: true });
}
