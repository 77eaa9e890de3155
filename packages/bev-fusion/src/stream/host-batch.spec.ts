import type { Frame } from '@bevzip/driving-data';
import { generateScene } from '@bevzip/synthetic-scenes';
import { disposeBatch, makeBatch } from '../task/batch';
import { createTaskConfig, TINY_TASK_CONFIG } from '../task/config';
import { assembleHostBatch, hostBatchTransferList } from '../task/host-batch';
import { sampleAddress, SyntheticBatchMaker } from './synthetic-frames';
import { disposeStreamBatch, hostBatchToTensors } from './to-tensors';

let frames: Frame[];
beforeAll(() => {
  frames = generateScene({ seed: 5, sceneIndex: 2, frames: 2 });
});

describe('assembleHostBatch', () => {
  it.each(['fusion', 'camera', 'lidar'] as const)(
    'holds exactly the values makeBatch uploads (%s)',
    (modality) => {
      const cfg = createTaskConfig({ modality });
      const host = assembleHostBatch(4, frames, cfg);
      const reference = makeBatch(frames, cfg);
      const got = hostBatchToTensors(host);
      expect(Object.keys(got.feeds).sort()).toEqual(Object.keys(reference.feeds).sort());
      for (const [name, t] of Object.entries(reference.feeds)) {
        expect(got.feeds[name].shape).toEqual(t.shape);
        expect(got.feeds[name].dtype).toBe(t.dtype);
        expect(got.feeds[name].dataSync()).toEqual(t.dataSync());
      }
      for (const name of ['heatmap', 'reg', 'regWeight', 'map'] as const) {
        expect(got.targets[name]!.shape).toEqual(reference.targets[name]!.shape);
        expect(got.targets[name]!.dataSync()).toEqual(reference.targets[name]!.dataSync());
      }
      expect(host.sampleTokens).toEqual(frames.map((f) => f.sampleToken));
      expect(host.numObjects).toEqual(reference.samples.map((s) => s.detection.numObjects));
      expect(host.step).toBe(4);
      disposeBatch(reference);
      disposeStreamBatch(got);
    },
  );

  it('gives every array its own buffer, so the batch can be transferred whole', () => {
    const host = assembleHostBatch(0, frames, TINY_TASK_CONFIG);
    const buffers = hostBatchTransferList(host);
    // Five feeds (images, cell indices, pillar features, mask, coords) and four targets.
    expect(buffers).toHaveLength(9);
    expect(new Set(buffers).size).toBe(9);
    const sizes = [...Object.values(host.feeds), ...Object.values(host.targets)].map((t) => t!.data.byteLength);
    expect(buffers.map((b) => b.byteLength)).toEqual(sizes);
  });

  it('refuses an empty batch and names the step', () => {
    expect(() => assembleHostBatch(3, [], TINY_TASK_CONFIG)).toThrow(/step 3: a batch needs at least one frame/);
  });
});

describe('SyntheticBatchMaker', () => {
  const spec = { seed: 5, batchSize: 2, framesPerScene: 3, firstScene: 1, task: TINY_TASK_CONFIG };

  it('addresses sample n as frame n mod F of scene first + ⌊n / F⌋', () => {
    expect([0, 2, 3, 7].map((n) => sampleAddress(spec, n))).toEqual([
      { scene: 1, frame: 0 },
      { scene: 1, frame: 2 },
      { scene: 2, frame: 0 },
      { scene: 3, frame: 1 },
    ]);
  });

  it('makes step s from the frames of those scenes, whichever steps were made before', () => {
    const maker = new SyntheticBatchMaker({ ...spec, framesPerScene: 2 });
    const scene2 = generateScene({ seed: 5, sceneIndex: 2, frames: 2 });
    expect(maker.framesAt(1).map((f) => f.sampleToken)).toEqual(scene2.map((f) => f.sampleToken));
    expect(maker.batchAt(1).sampleTokens).toEqual(frames.map((f) => f.sampleToken));
    expect(() => maker.framesAt(-1)).toThrow(/step must be a non-negative integer, got -1/);
  });
});
