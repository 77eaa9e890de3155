import { parentPort, workerData } from 'node:worker_threads';
import { hostBatchTransferList } from '../task/host-batch';
import type { BatchWorkerData, FromWorker, ToWorker } from './protocol';
import { toWireError } from './protocol';
import { SyntheticBatchMaker } from './synthetic-frames';

/*
 * The batch worker: renders synthetic frames and assembles host batches for the steps the main
 * thread asks for, one request per macrotask so that `retain` messages can prune the queue between
 * batches. Results go back with their buffers transferred.
 */
const data = workerData as BatchWorkerData;
if (data.failOnStart) throw new Error(data.failOnStart);
const port = parentPort!;
const maker = new SyntheticBatchMaker(data.spec);
let queue: number[] = [];
let scheduled = false;

function post(message: FromWorker): void {
  port.postMessage(message, message.type === 'batch' ? hostBatchTransferList(message.batch) : []);
}

function drain(): void {
  scheduled = false;
  const step = queue.shift();
  if (step === undefined) return;
  const start = performance.now();
  try {
    const batch = maker.batchAt(step);
    post({ type: 'batch', batch, ms: performance.now() - start });
  } catch (e) {
    post({ type: 'error', step, error: toWireError(e) });
  }
  schedule();
}

function schedule(): void {
  if (scheduled || queue.length === 0) return;
  scheduled = true;
  setImmediate(drain);
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'batch') {
    if (!queue.includes(msg.step)) queue.push(msg.step);
  } else {
    queue = queue.filter((s) => s >= msg.from && s <= msg.to);
  }
  schedule();
});
