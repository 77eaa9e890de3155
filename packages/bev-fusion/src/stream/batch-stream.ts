import { Worker } from 'node:worker_threads';
import { BevzipError, ERROR_CODES, type DataSource, type ErrorCode } from '@bevzip/ir';
import { Observable } from 'rxjs';
import type { HostBatch } from '../task/host-batch';
import type { BatchWorkerData, FromWorker, ToWorker, WireError } from './protocol';
import { validateStreamSpec, type SyntheticStreamSpec } from './synthetic-frames';
import { disposeStreamBatch, hostBatchToTensors, type StreamBatch } from './to-tensors';
import { batchWorkerEntry } from './worker-entry';

/** Options of {@link WorkerBatchStream}: what to draw, and how far to work ahead. */
export interface BatchStreamOptions extends SyntheticStreamSpec {
  /** Batches produced ahead of the one asked for (default 2; 0 = on demand only). */
  prefetch?: number;
  /** Test aid: make the worker fail while starting. */
  failWorkerOnStart?: string;
}

/** How much the consumer waited for data. */
export interface StreamStats {
  /** Batches handed out since the last reset. */
  batches: number;
  /** Time the consumer spent waiting inside `batch()`, ms. */
  waitMs: number;
  /** Wall time from the first `batch()` call after the reset to the last return, ms. */
  elapsedMs: number;
  /** waitMs / elapsedMs: the share of the consumer's time lost to data (0 when nothing ran). */
  stallFraction: number;
  /** Mean time the worker took to make one batch, ms. */
  workerMsPerBatch: number;
}

interface Pending {
  promise: Promise<HostBatch>;
  done: boolean;
  resolve(b: HostBatch): void;
  reject(e: Error): void;
}

function pending(): Pending {
  const p = { done: false } as Pending;
  p.promise = new Promise<HostBatch>((res, rej) => {
    p.resolve = (b) => {
      p.done = true;
      res(b);
    };
    p.reject = (e) => {
      p.done = true;
      rej(e);
    };
  });
  // A prefetched batch may fail and never be asked for; its rejection must not go unhandled.
  p.promise.catch(() => undefined);
  return p;
}

const CODES = new Set<string>(Object.values(ERROR_CODES));

/** A BevzipError for a failure inside the worker, keeping the worker's stack (also as `cause`). */
function workerError(context: string, wire: WireError): BevzipError {
  const code = (wire.code && CODES.has(wire.code) ? wire.code : ERROR_CODES.BAD_FEED) as ErrorCode;
  const cause = Object.assign(new Error(wire.message), { name: wire.name, stack: wire.stack });
  const err = new BevzipError(code, `${context}: ${wire.message}`, { cause });
  err.stack = `${err.name}: ${err.message}\n  [batch worker] ${wire.stack ?? '(no stack)'}`;
  return err;
}

/**
 * Training batches of synthetic scenes, made in a worker thread while the caller trains. The worker
 * renders frames and does the host-side assembly (pillars, frustum cell indices, targets) into
 * transferable typed arrays; this side only uploads them as tensors. Batch s depends on s alone
 * (see `SyntheticBatchMaker`), so results are identical whatever the prefetch depth or timing, and a
 * run resumes at any step by asking for it. As a runtime {@link DataSource} it works ahead by
 * `prefetch` steps; {@link WorkerBatchStream.batches} gives the same batches as an rxjs stream.
 * Call {@link WorkerBatchStream.close} when done.
 *
 * @example
 * const stream = new WorkerBatchStream({ seed: 0, batchSize: 2, task: TINY_TASK_CONFIG });
 * const b = await stream.batch(0); // tensors owned by the caller
 * disposeStreamBatch(b);
 * await stream.close();
 */
export class WorkerBatchStream implements DataSource {
  private readonly worker: Worker;
  private readonly prefetch: number;
  private readonly inFlight = new Map<number, Pending>();
  private failure: BevzipError | undefined;
  private closed = false;
  private stat = { batches: 0, waitMs: 0, first: -1, last: -1, workerMs: 0, made: 0 };

  constructor(options: BatchStreamOptions) {
    const { prefetch = 2, failWorkerOnStart, ...spec } = options;
    validateStreamSpec(spec);
    if (!(Number.isInteger(prefetch) && prefetch >= 0)) {
      throw new BevzipError(
        ERROR_CODES.CONFIG,
        `batch stream: prefetch must be an integer ≥ 0, got ${prefetch}`,
      );
    }
    this.prefetch = prefetch;
    const entry = batchWorkerEntry();
    const data: BatchWorkerData & { entry?: string } = {
      spec,
      failOnStart: failWorkerOnStart,
      entry: entry.entry,
    };
    this.worker = new Worker(entry.file, { workerData: data, execArgv: entry.execArgv });
    this.worker.on('message', (m: FromWorker) => this.onMessage(m));
    this.worker.on('error', (e) =>
      this.fail(workerError('batch worker crashed', { name: e.name, message: e.message, stack: e.stack })),
    );
    this.worker.on('exit', (code) => {
      if (!this.closed)
        this.fail(
          new BevzipError(ERROR_CODES.BAD_FEED, `batch worker exited unexpectedly with code ${code}`),
        );
    });
  }

  /**
   * The batch of `step`, as tensors the caller owns (see {@link disposeStreamBatch}). Also queues
   * the next `prefetch` steps and drops queued work the consumer has moved past.
   * @throws BevzipError from the worker (with its stack) when the batch could not be made, or
   *   E_CONFIG after {@link close}.
   */
  async batch(step: number): Promise<StreamBatch> {
    return hostBatchToTensors(await this.hostBatch(step));
  }

  /**
   * The batch of `step` as host arrays, for consumers that upload only part of it (the training
   * data source keeps loss targets on the host). Queues and drops work like {@link batch}.
   */
  async hostBatch(step: number): Promise<HostBatch> {
    if (!(Number.isInteger(step) && step >= 0)) {
      throw new BevzipError(
        ERROR_CODES.CONFIG,
        `batch stream: step must be a non-negative integer, got ${step}`,
      );
    }
    const start = performance.now();
    if (this.stat.first < 0) this.stat.first = start;
    this.request(step);
    const host = await this.inFlight.get(step)!.promise;
    this.inFlight.delete(step);
    const end = performance.now();
    this.stat.waitMs += end - start;
    this.stat.last = end;
    this.stat.batches++;
    return host;
  }

  /**
   * Batches `from`, `from` + 1, … (`count` of them, default endless) as an Observable. Each is
   * emitted once made and uploaded; the subscriber owns its tensors. Unsubscribing stops the stream
   * (the worker stays up for further calls); worker errors arrive as the stream's error.
   */
  batches(from = 0, count = Infinity): Observable<StreamBatch> {
    return new Observable<StreamBatch>((subscriber) => {
      let stopped = false;
      void (async () => {
        for (let s = from; s < from + count && !stopped; s++) {
          const b = await this.batch(s);
          if (stopped) disposeStreamBatch(b);
          else subscriber.next(b);
        }
        subscriber.complete();
      })().catch((e) => subscriber.error(e));
      return () => {
        stopped = true;
      };
    });
  }

  /** Consumer-side wait statistics since construction or the last {@link resetStats}. */
  stats(): StreamStats {
    const { batches, waitMs, first, last, workerMs, made } = this.stat;
    const elapsedMs = first < 0 || last < 0 ? 0 : last - first;
    return {
      batches,
      waitMs,
      elapsedMs,
      stallFraction: elapsedMs > 0 ? waitMs / elapsedMs : 0,
      workerMsPerBatch: made > 0 ? workerMs / made : 0,
    };
  }

  /** Starts the statistics afresh (after a warm-up, say). */
  resetStats(): void {
    this.stat = { batches: 0, waitMs: 0, first: -1, last: -1, workerMs: 0, made: 0 };
  }

  /** Stops the worker; pending and later requests fail with E_CONFIG. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.rejectAll(new BevzipError(ERROR_CODES.CONFIG, 'batch stream: closed'));
    // An idle, unreferenced worker does not keep the event loop alive while `terminate` settles
    // (re-referencing it is not enough), so a timer holds the process until the thread is gone.
    const hold = setInterval(() => undefined, 1000);
    try {
      await this.worker.terminate();
    } finally {
      clearInterval(hold);
    }
  }

  private request(step: number): void {
    if (this.closed)
      throw new BevzipError(ERROR_CODES.CONFIG, `batch stream: closed (step ${step} asked for)`);
    const to = step + this.prefetch;
    for (const s of this.inFlight.keys()) if (s < step || s > to) this.inFlight.delete(s);
    this.post({ type: 'retain', from: step, to });
    for (let s = step; s <= to; s++) {
      if (this.inFlight.has(s)) continue;
      const p = pending();
      this.inFlight.set(s, p);
      if (this.failure) p.reject(this.failure);
      else this.post({ type: 'batch', step: s });
    }
    this.worker.ref();
  }

  private post(message: ToWorker): void {
    if (!this.failure) this.worker.postMessage(message);
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'batch') {
      this.stat.workerMs += m.ms;
      this.stat.made++;
      this.inFlight.get(m.batch.step)?.resolve(m.batch);
    } else {
      this.inFlight.get(m.step)?.reject(workerError(`batch worker failed on step ${m.step}`, m.error));
    }
    // Idle workers must not keep the process alive; a request re-references it.
    if (![...this.inFlight.values()].some((p) => !p.done)) this.worker.unref();
  }

  private fail(e: BevzipError): void {
    if (this.failure) return;
    this.failure = e;
    this.rejectAll(e);
  }

  private rejectAll(e: Error): void {
    for (const p of this.inFlight.values()) p.reject(e);
  }
}
