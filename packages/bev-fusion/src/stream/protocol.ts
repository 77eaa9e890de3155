import type { HostBatch } from '../task/host-batch';
import type { SyntheticStreamSpec } from './synthetic-frames';

/** What the batch worker is started with (its `workerData`). */
export interface BatchWorkerData {
  spec: SyntheticStreamSpec;
  /** Test aid: the worker throws while loading, to exercise start-up failure. */
  failOnStart?: string;
}

/** Main thread → worker. */
export type ToWorker =
  /** Produce the batch of `step` (queued behind earlier requests). */
  | { type: 'batch'; step: number }
  /** Forget queued requests outside [from, to]: the consumer moved on or jumped. */
  | { type: 'retain'; from: number; to: number };

/** An error as it crosses the thread boundary: message, stack and code survive. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

/** Worker → main thread. */
export type FromWorker =
  | { type: 'batch'; batch: HostBatch; ms: number }
  | { type: 'error'; step: number; error: WireError };

/** Flattens any thrown value into a {@link WireError}. */
export function toWireError(e: unknown): WireError {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { name: e.name, message: e.message, stack: e.stack, code: typeof code === 'string' ? code : undefined };
  }
  return { name: 'Error', message: String(e) };
}
