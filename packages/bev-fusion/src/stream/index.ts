/**
 * Training data made off the main thread: a worker renders synthetic scenes and assembles batches
 * as typed arrays; the main thread uploads them as tensors, as a runtime data source or an rxjs
 * stream, and measures how long training waited for them.
 */
export * from './synthetic-frames';
export * from './to-tensors';
export * from './batch-stream';
export { batchWorkerEntry, type WorkerEntry } from './worker-entry';
