import { BevzipError } from '@bevzip/ir';
import { expectNoLeak } from '@bevzip/ir/testing';
import type { Frame } from '@bevzip/driving-data';
import { generateScene } from '@bevzip/synthetic-scenes';
import { MODEL_INPUTS } from '../model/build';
import { disposeBatch, makeBatch } from './batch';
import { camBevIndexFor, orderedCameras } from './camera-geometry';
import { createTaskConfig, TINY_TASK_CONFIG as CFG } from './config';
import { FrameBatchSource } from './data-source';
import { pillarize } from './pillarize';

let frames: Frame[];
beforeAll(() => {
  frames = generateScene({ seed: 0, sceneIndex: 0, frames: 2 });
});

describe('makeBatch', () => {
  it('builds every fusion feed and target with the interface shapes and values', () => {
    const batch = makeBatch(frames, CFG);
    const f = batch.feeds;
    expect(Object.keys(f).sort()).toEqual(Object.values(MODEL_INPUTS).sort());
    expect(f.images.shape).toEqual([12, 32, 88, 3]);
    expect(f.images.dtype).toBe('float32');
    const img = f.images.dataSync();
    const back = orderedCameras(frames[1])[3];
    expect(back.channel).toBe('CAM_BACK');
    const o = (6 + 3) * 32 * 88 * 3;
    for (const k of [0, 1000, 8447]) expect(img[o + k]).toBeCloseTo(back.image[k] / 255, 6);
    expect(f.cam_bev_index.shape).toEqual([2, 25344]);
    expect(f.cam_bev_index.dtype).toBe('int32');
    expect(Array.from(f.cam_bev_index.dataSync().subarray(25344))).toEqual(
      Array.from(camBevIndexFor(frames[1], CFG)),
    );
    expect(f.pillar_features.shape).toEqual([2, 3072, 12, 9]);
    expect(f.pillar_mask.shape).toEqual([2, 3072, 12]);
    expect(f.pillar_coords.shape).toEqual([2, 3072, 2]);
    expect(f.pillar_coords.dtype).toBe('int32');
    const p1 = pillarize(frames[1].lidar, CFG);
    expect(Array.from(f.pillar_coords.dataSync().subarray(3072 * 2))).toEqual(Array.from(p1.coords));
    expect(batch.targets.heatmap.shape).toEqual([2, 32, 32, 6]);
    expect(batch.targets.reg.shape).toEqual([2, 32, 32, 10]);
    expect(batch.targets.regWeight.shape).toEqual([2, 32, 32, 10]);
    expect(batch.targets.map!.shape).toEqual([2, 64, 64, 2]);
    const peaks = Array.from(batch.targets.heatmap.dataSync()).filter((v) => v === 1).length;
    const objects = batch.samples.reduce((a, s) => a + s.detection.boxes.length, 0);
    expect(objects).toBeGreaterThan(0);
    expect(peaks).toBeLessThanOrEqual(objects);
    expect(peaks).toBeGreaterThan(0);
    const map = batch.targets.map!.dataSync();
    const drivable = frames[0].map!.masks[frames[0].map!.classes.indexOf('drivable_area')];
    let diff = 0;
    for (let n = 0; n < 64 * 64; n++) if (map[n * 2] !== drivable[n]) diff++;
    expect(diff).toBe(0);
    disposeBatch(batch);
  });

  it('lets the modality decide which inputs exist', () => {
    const cam = makeBatch(frames.slice(0, 1), createTaskConfig({ modality: 'camera' }));
    expect(Object.keys(cam.feeds).sort()).toEqual(['cam_bev_index', 'images']);
    disposeBatch(cam);
    const lidar = makeBatch(frames.slice(0, 1), createTaskConfig({ modality: 'lidar', mapClasses: [] }));
    expect(Object.keys(lidar.feeds).sort()).toEqual(['pillar_coords', 'pillar_features', 'pillar_mask']);
    expect(lidar.targets.map).toBeUndefined();
    disposeBatch(lidar);
  });

  it('releases every tensor it made', () => {
    expectNoLeak(() => disposeBatch(makeBatch(frames, CFG)), 2);
  });

  it('rejects an empty batch and frames without the map labels the config asks for', () => {
    expect(() => makeBatch([], CFG)).toThrow(BevzipError);
    expect(() => makeBatch([{ ...frames[0], map: undefined }], CFG)).toThrow(/no map labels/);
  });
});

describe('FrameBatchSource', () => {
  const dummy = Array.from({ length: 10 }, (_, i) => ({ sampleToken: `s${i}` }) as Frame);

  it('is a pure function of the step: a fresh source resumes the same order', () => {
    const a = new FrameBatchSource(dummy, CFG, { batchSize: 3, seed: 5 });
    const b = new FrameBatchSource(dummy, CFG, { batchSize: 3, seed: 5 });
    expect(a.stepsPerEpoch).toBe(4);
    const seq = Array.from({ length: 12 }, (_, s) => a.indicesAt(s));
    expect([9, 2, 7, 0].map((s) => b.indicesAt(s))).toEqual([9, 2, 7, 0].map((s) => seq[s]));
  });

  it('visits every frame once per epoch in a different seeded order', () => {
    const src = new FrameBatchSource(dummy, CFG, { batchSize: 3, seed: 5 });
    const epoch = (e: number) => [0, 1, 2, 3].flatMap((k) => src.indicesAt(4 * e + k));
    for (const e of [0, 1, 2]) expect([...epoch(e)].sort((x, y) => x - y)).toEqual(dummy.map((_, i) => i));
    expect(epoch(0)).not.toEqual(epoch(1));
    expect(new FrameBatchSource(dummy, CFG, { batchSize: 3, seed: 6 }).epochOrder(0)).not.toEqual(
      src.epochOrder(0),
    );
    expect(new FrameBatchSource(dummy, CFG, { batchSize: 4, seed: 5, shuffle: false }).indicesAt(2)).toEqual([
      8, 9,
    ]);
    const drop = new FrameBatchSource(dummy, CFG, { batchSize: 4, seed: 5, dropLast: true });
    expect(drop.stepsPerEpoch).toBe(2);
    expect(drop.indicesAt(2)).toHaveLength(4);
    expect(() => new FrameBatchSource(dummy, CFG, { batchSize: 0, seed: 1 })).toThrow(BevzipError);
  });

  it('builds the batch of a step from its frames', () => {
    const src = new FrameBatchSource(frames, CFG, { batchSize: 1, seed: 1 });
    const batch = src.batchAt(1);
    expect(batch.samples[0].sampleToken).toBe(frames[src.indicesAt(1)[0]].sampleToken);
    expect(batch.feeds.images.shape[0]).toBe(6);
    disposeBatch(batch);
  });
});
