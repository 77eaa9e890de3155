import * as tf from '@tensorflow/tfjs';
import type { Frame } from '@bevzip/driving-data';
import { generateScene } from '@bevzip/synthetic-scenes';
import { disposeBatch, makeBatch } from '../task/batch';
import { TINY_TASK_CONFIG as CFG } from '../task/config';
import { frameDataSource } from './synthetic-split';

let frames: Frame[];
beforeAll(() => {
  frames = generateScene({ seed: 0, sceneIndex: 0, frames: 2 });
});

describe('ground-truth boxes in the runtime batch', () => {
  it('are each sample’s target boxes as ego-frame footprints with their class', async () => {
    const source = frameDataSource(frames, CFG, 2);
    const batch = await source.batch(0, { seed: 0, stage: 's' });
    const reference = makeBatch(frames, CFG);
    const expected = reference.samples.map((s) =>
      s.detection.boxes.map(({ box, classIndex }) => ({ x: box.center[0], y: box.center[1], length: box.size[0], width: box.size[1], yaw: box.yaw, classIndex })),
    );
    expect(batch.boxes).toBeDefined();
    expect(batch.boxes!.map((b) => b.length).reduce((a, n) => a + n, 0)).toBe(expected.flat().length);
    const key = (b: { x: number; y: number }) => `${b.x.toFixed(4)},${b.y.toFixed(4)}`;
    expect(batch.boxes!.flat().map(key).sort()).toEqual(expected.flat().map(key).sort());
    expect(batch.boxes!.flat().every((b) => b.length > 0 && b.width > 0 && Number.isFinite(b.yaw) && b.classIndex >= 0)).toBe(true);
    disposeBatch(reference);
    tf.dispose(Object.values(batch.feeds));
  });
});
