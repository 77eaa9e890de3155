import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StreamBatch } from '@bevzip/bev-fusion';

/** What the PyTorch twin prints. */
export interface TorchRun {
  threads: number;
  steps: number;
  stepMs: number;
  stepMsAll: number[];
  loss: number;
}

/** The twin script, found from this file in `src/bench` or `dist/bench` of tools/cli. */
export const TORCH_TWIN_SCRIPT = path.resolve(__dirname, '../../../bench/torch_bevfusion_tiny.py');

/**
 * Writes a batch's feeds and targets for the twin: `<base>.json` (name, dtype, shape, byte range of
 * each tensor) and `<base>.bin` (their raw little-endian data). Returns `<base>`.
 */
export function writeTwinBatch(batch: StreamBatch, dir: string = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-twin-'))): string {
  const base = path.join(dir, 'batch');
  const tensors = [...Object.entries(batch.feeds), ...Object.entries(batch.targets)];
  const chunks: Buffer[] = [];
  let offset = 0;
  const header = tensors.map(([name, t]) => {
    const data = t.dataSync();
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    chunks.push(bytes);
    const entry = { name, dtype: t.dtype, shape: t.shape, offset, bytes: bytes.length };
    offset += bytes.length;
    return entry;
  });
  fs.writeFileSync(`${base}.bin`, Buffer.concat(chunks));
  fs.writeFileSync(`${base}.json`, JSON.stringify({ tensors: header }));
  return base;
}

/**
 * Runs the PyTorch twin with `/usr/bin/python3` (Debian's, which sees python3-torch) or `python`.
 * @throws Error with the script's stderr when it fails or prints no JSON.
 */
export function runTorchTwin(o: { threads: number; steps: number; batchFile?: string; python?: string }): TorchRun {
  const args = [TORCH_TWIN_SCRIPT, '--threads', String(o.threads), '--steps', String(o.steps)];
  if (o.batchFile) args.push('--batch', o.batchFile);
  let out: string;
  try {
    out = execFileSync(o.python ?? '/usr/bin/python3', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`PyTorch twin failed at ${o.threads} thread(s): ${(err.stderr || err.message).trim().split('\n').slice(-3).join(' | ')}`);
  }
  const line = out.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as TorchRun;
}
