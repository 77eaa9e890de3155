import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventStream, writeJsonLines } from './events';
import { iteratorSource, shuffledIndex } from './data-source';
import * as tf from '@tensorflow/tfjs';

describe('event stream', () => {
  it('writes one JSON line per event and closes the file when the run completes', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-events-')), 'run.jsonl');
    const stream = new EventStream();
    const sub = writeJsonLines(stream.events, file);
    stream.emit({ type: 'stage-start', stage: 's', index: 0, steps: 2, startStep: 0 });
    stream.emit({ type: 'step', stage: 's', step: 0, losses: { task: 0.5 }, total: 0.5, lr: 0.1, samplesPerSec: 10, gradNorm: 1 });
    stream.complete();
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map(({ time: _time, ...rest }) => rest)).toEqual([
      { type: 'stage-start', stage: 's', index: 0, steps: 2, startStep: 0 },
      { type: 'step', stage: 's', step: 0, losses: { task: 0.5 }, total: 0.5, lr: 0.1, samplesPerSec: 10, gradNorm: 1 },
    ]);
    expect(sub.closed).toBe(true);
    fs.rmSync(path.dirname(file), { recursive: true });
  });
});

describe('data sources', () => {
  it('orders samples as a seeded permutation per epoch, computable from the step alone', () => {
    const epoch = (e: number, seed: number) => Array.from({ length: 5 }, (_, i) => shuffledIndex(e * 5 + i, 5, seed));
    expect([...epoch(0, 1)].sort()).toEqual([0, 1, 2, 3, 4]);
    expect([...epoch(1, 1)].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(epoch(0, 1)).toEqual(epoch(0, 1));
    expect(epoch(0, 1)).not.toEqual(epoch(1, 1));
  });

  it('replays an iterator to resume at a step, disposing skipped batches', async () => {
    function* gen() {
      for (let i = 0; i < 4; i++) yield { feeds: { x: tf.scalar(i) } };
    }
    const source = iteratorSource(() => gen());
    const before = tf.memory().numTensors;
    const b = await source.batch(2, { seed: 0, stage: 's' });
    expect(b.feeds.x.dataSync()[0]).toBe(2);
    b.feeds.x.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(source.batch(7, { seed: 0, stage: 's' })).rejects.toMatchObject({ code: 'E_CONFIG', message: "data source of stage 's' ended after 4 batches; step 7 was asked for" });
  });
});
