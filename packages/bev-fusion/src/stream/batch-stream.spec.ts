import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES } from '@bevzip/ir';
import { firstValueFrom, toArray } from 'rxjs';
import { MICRO_CONFIG } from '../model/config';
import { taskConfigForModel } from '../task/from-model';
import { WorkerBatchStream, type BatchStreamOptions } from './batch-stream';
import type { HostBatch } from '../task/host-batch';
import { SyntheticBatchMaker } from './synthetic-frames';
import { disposeStreamBatch, type StreamBatch } from './to-tensors';

const task = taskConfigForModel(MICRO_CONFIG, 'fusion');
const base: BatchStreamOptions = { seed: 11, batchSize: 2, framesPerScene: 2, task };

/** The batch's tensors as host arrays, keyed by feed/target name (disposes the batch). */
function download(b: StreamBatch): Record<string, number[]> {
  const out: Record<string, number[]> = { step: [b.step] };
  for (const [k, t] of Object.entries(b.feeds)) out[`feed:${k}`] = [...t.shape, ...t.dataSync()];
  for (const [k, t] of Object.entries(b.targets)) out[`target:${k}`] = [...t.shape, ...t.dataSync()];
  disposeStreamBatch(b);
  return out;
}

function hostArrays(b: HostBatch): Record<string, number[]> {
  const out: Record<string, number[]> = { step: [b.step] };
  for (const [k, t] of Object.entries(b.feeds)) out[`feed:${k}`] = [...t.shape, ...t.data];
  for (const [k, t] of Object.entries(b.targets)) out[`target:${k}`] = [...t!.shape, ...t!.data];
  return out;
}

async function take(stream: WorkerBatchStream, steps: number[]): Promise<Record<string, number[]>[]> {
  const out = [];
  for (const s of steps) out.push(download(await stream.batch(s)));
  return out;
}

describe('WorkerBatchStream', () => {
  const streams: WorkerBatchStream[] = [];
  const open = (o: Partial<BatchStreamOptions> = {}) => {
    const s = new WorkerBatchStream({ ...base, ...o });
    streams.push(s);
    return s;
  };
  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
  });

  it('yields the same batch for a step whatever the prefetch depth, equal to the batch made on this thread', async () => {
    const [eager, lazy] = [open({ prefetch: 3 }), open({ prefetch: 0 })];
    const [a, b] = await Promise.all([take(eager, [0, 1, 2]), take(lazy, [0, 1, 2])]);
    expect(a).toEqual(b);
    const reference = new SyntheticBatchMaker(base);
    expect(a[1]).toEqual(hostArrays(reference.batchAt(1)));
    expect(a.map((x) => x.step[0])).toEqual([0, 1, 2]);
    // Consecutive samples come from different frames, so the batches really differ.
    expect(a[0]['target:heatmap']).not.toEqual(a[1]['target:heatmap']);
    expect(eager.stats().batches).toBe(3);
    expect(eager.stats().workerMsPerBatch).toBeGreaterThan(0);
  });

  it('resumes at an arbitrary step, and streams the same batches as an Observable', async () => {
    const stream = open();
    const [resumed] = await take(stream, [7]);
    expect(resumed).toEqual(hostArrays(new SyntheticBatchMaker(base).batchAt(7)));
    const emitted = await firstValueFrom(stream.batches(3, 2).pipe(toArray()));
    expect(emitted.map((b) => b.step)).toEqual([3, 4]);
    const viaStream = emitted.map(download);
    expect(viaStream[1]).toEqual(hostArrays(new SyntheticBatchMaker(base).batchAt(4)));
  });

  it('leaves the tensor count flat on the consumer side', async () => {
    const stream = open({ prefetch: 1 });
    disposeStreamBatch(await stream.batch(0));
    const before = tf.memory().numTensors;
    for (const s of [1, 2, 3]) disposeStreamBatch(await stream.batch(s));
    expect(tf.memory().numTensors).toBe(before);
    const stats = stream.stats();
    expect(stats.batches).toBe(4);
    expect(stats.stallFraction).toBeGreaterThan(0);
    expect(stats.stallFraction).toBeLessThanOrEqual(1);
  });

  it('surfaces an error thrown in the worker with its code and the worker stack, and keeps serving', async () => {
    const bad = { ...task, mapClasses: ['drivable_area', 'no_such_class'] };
    const stream = open({ task: bad, prefetch: 1 });
    const err = await stream.batch(0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BevzipError);
    expect((err as BevzipError).code).toBe(ERROR_CODES.BAD_FEED);
    expect((err as Error).message).toMatch(/step 0: sample [0-9a-f]+: map labels have no class 'no_such_class'/);
    expect((err as Error).stack).toMatch(/\[batch worker\][\s\S]*buildMapTargets[\s\S]*targets\.ts/);
    expect(((err as Error).cause as Error).stack).toMatch(/host-batch\.ts/);
    await expect(stream.batch(1)).rejects.toThrow(/no_such_class/);
    const error = await firstValueFrom(stream.batches(2)).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/step 2/);
  });

  it('reports a worker that dies while starting, for the pending and every later request', async () => {
    const stream = open({ failWorkerOnStart: 'cannot start: boom' });
    await expect(stream.batch(0)).rejects.toThrow(/batch worker crashed: cannot start: boom/);
    await expect(stream.batch(1)).rejects.toThrow(/cannot start: boom/);
  });

  it('shuts down cleanly: pending requests fail, later ones are refused, closing twice is harmless', async () => {
    const stream = open({ prefetch: 0 });
    const outcome = stream.batch(0).then(
      () => 'delivered',
      (e: unknown) => e,
    );
    await stream.close();
    expect(await outcome).toMatchObject({ code: ERROR_CODES.CONFIG, message: 'batch stream: closed' });
    await expect(stream.batch(1)).rejects.toThrow(/closed/);
    await expect(stream.close()).resolves.toBeUndefined();
  });

  it('rejects bad options with the field named', () => {
    expect(() => new WorkerBatchStream({ ...base, batchSize: 0 })).toThrow(/batchSize must be an integer ≥ 1, got 0/);
    expect(() => new WorkerBatchStream({ ...base, prefetch: -1 })).toThrow(/prefetch must be an integer ≥ 0/);
  });
});

describe('WorkerBatchStream in a plain Node process', () => {
  const run = (body: string) =>
    execFileSync(
      process.execPath,
      ['--conditions=@bevzip/source', '-r', path.join(__dirname, 'ts-hook.js'), '-e', body],
      // Each child transpiles the sources and starts a worker: slow on a loaded machine, hence the margins.
      { encoding: 'utf8', timeout: 120_000, cwd: __dirname, stdio: ['ignore', 'pipe', 'pipe'] },
    );
  const open = `const { WorkerBatchStream } = require(${JSON.stringify(path.join(__dirname, 'index.ts'))});
    const { TINY_TASK_CONFIG } = require(${JSON.stringify(path.join(__dirname, '../task/config.ts'))});
    const s = new WorkerBatchStream({ seed: 1, batchSize: 1, task: TINY_TASK_CONFIG, prefetch: 0 });`;

  it('lets the process exit after close, and on its own once idle when close is forgotten', () => {
    const out = run(`${open}
      // Two batches with no prefetch leave the worker idle, the state in which closing must still hold the process.
      s.batch(0).then(() => s.batch(1)).then(async (b) => { console.log('got ' + b.step); await s.close(); console.log('closed'); });
      process.on('exit', () => console.log('exit'));`);
    expect(out.trim().split('\n')).toEqual(['got 1', 'closed', 'exit']);
    const forgotten = run(`${open} s.batch(0).then((b) => console.log('got ' + b.sampleTokens.length));`);
    expect(forgotten.trim()).toBe('got 1');
  }, 300_000);
});
