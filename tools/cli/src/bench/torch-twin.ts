import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { StreamBatch } from '@bevzip/bev-fusion';

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
 * The PyTorch twin kept running (`--serve`): after its warm-up each {@link step} call makes it take
 * one training step and resolves with that step's milliseconds. Alternating these with the
 * caller's own steps puts both under the same load, which on a shared machine drifts far more
 * within a minute than the two implementations differ.
 */
export class TorchTwinServer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: readline.Interface;
  private readonly waiting: Array<{ resolve: (line: string) => void; reject: (e: Error) => void }> = [];
  private stderr = '';
  private exited: Error | undefined;

  private constructor(readonly threads: number, o: { batchFile?: string; python?: string; warmup?: number }) {
    const args = [TORCH_TWIN_SCRIPT, '--serve', '--threads', String(threads), '--warmup', String(o.warmup ?? 3)];
    if (o.batchFile) args.push('--batch', o.batchFile);
    this.child = spawn(o.python ?? '/usr/bin/python3', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.lines = readline.createInterface({ input: this.child.stdout });
    this.lines.on('line', (line) => this.waiting.shift()?.resolve(line));
    const fail = (why: string) => {
      this.exited = new Error(`PyTorch twin (${threads} thread(s)) ${why}: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      for (const w of this.waiting.splice(0)) w.reject(this.exited);
    };
    this.child.on('error', (e) => fail(`could not start (${e.message})`));
    this.child.on('exit', (code) => fail(`exited with code ${code}`));
  }

  /** Starts the twin and waits until it has warmed up. */
  static async start(threads: number, o: { batchFile?: string; python?: string; warmup?: number } = {}): Promise<TorchTwinServer> {
    const server = new TorchTwinServer(threads, o);
    const ready = JSON.parse(await server.nextLine()) as { ready?: boolean };
    if (!ready.ready) throw new Error(`PyTorch twin (${threads} thread(s)) did not report ready`);
    return server;
  }

  /** One training step of the twin; resolves with its wall time in ms. */
  async step(): Promise<number> {
    const reply = this.nextLine();
    this.child.stdin.write('step\n');
    return (JSON.parse(await reply) as { ms: number }).ms;
  }

  /** Ends the twin (it leaves its loop on any line other than `step`). */
  close(): void {
    if (this.exited) return;
    this.child.stdin.end('quit\n');
    this.lines.close();
  }

  private nextLine(): Promise<string> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
}
