import * as tf from '@tensorflow/tfjs';
import { BevzipError } from '@bevzip/ir';
import { frameMetrics, type Frame } from '@bevzip/driving-data';
import { generateScene } from '@bevzip/synthetic-scenes';
import { disposeBatch, makeBatch } from './batch';
import { TINY_TASK_CONFIG as CFG } from './config';
import { evaluateModel, type PredictFn } from './evaluate';
import { oracleOutputs } from './oracle';

let frames: Frame[];
beforeAll(() => {
  frames = [0, 1].flatMap((sceneIndex) => generateScene({ seed: 2, sceneIndex, frames: 2 }));
});

/** Serves each call the oracle outputs of the next `batchSize` frames. */
function oraclePredictor(batchSize: number): PredictFn {
  let next = 0;
  return (feeds) => {
    const chunk = frames.slice(next, next + batchSize);
    next += batchSize;
    expect(feeds.images.shape[0]).toBe(6 * chunk.length);
    const batch = makeBatch(chunk, CFG);
    const out = oracleOutputs(batch.targets);
    disposeBatch(batch);
    return out;
  };
}

describe('evaluateModel', () => {
  it('scores oracle outputs at mAP ≈ 1, near-zero TP errors and map mIoU 1, without leaking tensors', async () => {
    await evaluateModel(frames.slice(0, 1), oraclePredictor(1), CFG);
    const before = tf.memory().numTensors;
    const res = await evaluateModel(frames, oraclePredictor(2), CFG, { batchSize: 2 });
    expect(tf.memory().numTensors).toBe(before);
    // The oracle cannot recover a box whose head cell an earlier box of the frame already holds.
    const shared: Record<string, number> = {};
    for (const f of frames) {
      const batch = makeBatch([f], CFG);
      const seen = new Set<number>();
      for (const t of batch.samples[0].detection.boxes) {
        if (seen.has(t.i * 32 + t.j)) shared[t.box.detectionName] = (shared[t.box.detectionName] ?? 0) + 1;
        seen.add(t.i * 32 + t.j);
      }
      disposeBatch(batch);
    }
    const m = res.presentClassMetrics!;
    expect(Object.keys(m.meanDistAps)).toEqual(CFG.classes.filter((c) => res.gtCounts[c] > 0));
    expect(Object.keys(m.meanDistAps).length).toBeGreaterThanOrEqual(2);
    for (const [c, ap] of Object.entries(m.meanDistAps)) {
      if (shared[c]) expect(ap).toBeGreaterThan(0.8);
      else expect(ap).toBeCloseTo(1, 9);
    }
    expect(m.meanAp).toBeGreaterThan(0.9);
    expect(m.tpErrors.trans_err).toBeLessThan(1e-3);
    expect(m.tpErrors.scale_err).toBeLessThan(1e-3);
    expect(m.tpErrors.orient_err).toBeLessThan(1e-3);
    expect(m.tpErrors.vel_err).toBeLessThan(1e-3);
    expect(res.classMetrics.meanAp).toBeCloseTo(
      (m.meanAp * Object.keys(m.meanDistAps).length) / CFG.classes.length,
      9,
    );
    // Absent classes score AP 0 in the ten-class evaluation; present ones are the same in both.
    for (const c of CFG.classes)
      expect(res.detection.metrics.meanDistAps[c]).toBe(res.classMetrics.meanDistAps[c]);
    expect(res.detection.metrics.meanDistAps.bus).toBe(0);
    expect(res.map!.meanIou).toBeCloseTo(1, 6);
    expect(res.detections.size).toBe(frames.length);
  });

  it('scores outputs that find nothing at mAP 0 and map IoU 0 for the positive class', async () => {
    const empty: PredictFn = (feeds) => {
      const b = feeds.cam_bev_index.shape[0];
      return {
        heatmap: tf.fill([b, 32, 32, 6], -20),
        reg: tf.zeros([b, 32, 32, 10]),
        map: tf.fill([b, 64, 64, 2], -20),
      };
    };
    const res = await evaluateModel(frames.slice(0, 2), empty, CFG);
    expect(res.classMetrics.meanAp).toBe(0);
    expect(res.map!.perClass.drivable_area.maxIou).toBe(0);
  });

  it('keeps per-frame results whose unit-weight metrics are the aggregate ones, at batch 1 and 2', async () => {
    // Oracle outputs plus seeded noise drawn per frame, so each frame's outputs do not depend on
    // the batch it is in: some misses, false positives and imperfect map cells.
    const noisy = (batchSize: number): PredictFn => {
      const oracle = oraclePredictor(batchSize);
      let next = 0;
      return async (feeds) => {
        const out = await oracle(feeds);
        const n = (out.heatmap as tf.Tensor).shape[0];
        const first = next;
        next += n;
        const add = (t: tf.Tensor, sd: number, salt: number) =>
          tf.tidy(() =>
            t.add(tf.concat(Array.from({ length: n }, (_, s) => tf.randomNormal([1, ...t.shape.slice(1)], 0, sd, 'float32', salt + first + s)))),
          );
        const r = { heatmap: add(out.heatmap as tf.Tensor, 3, 100), reg: add(out.reg as tf.Tensor, 0.3, 200), map: add(out.map as tf.Tensor, 20, 300) };
        for (const t of [out.heatmap, out.reg, out.map]) (t as tf.Tensor).dispose();
        return r;
      };
    };
    const results = [];
    const before = tf.memory().numTensors;
    for (const batchSize of [1, 2]) {
      const res = await evaluateModel(frames, noisy(batchSize), CFG, { batchSize });
      const m = res.presentClassMetrics!;
      const per = frameMetrics(res.perFrame);
      expect(res.perFrame.sampleTokens).toEqual(frames.map((f) => f.sampleToken));
      expect(m.meanAp).toBeGreaterThan(0.05);
      expect(m.meanAp).toBeLessThan(0.95);
      expect(per.mAP).toBeCloseTo(m.meanAp, 12);
      expect(per.NDS).toBeCloseTo(m.ndScore, 12);
      expect(per.mATE).toBeCloseTo(m.tpErrors.trans_err, 12);
      expect(per.mIoU).toBeCloseTo(res.map!.meanIou, 12);
      expect(res.map!.meanIou).toBeLessThan(0.95);
      expect(res.perFrame.map!.pos).toHaveLength(frames.length);
      results.push(res);
    }
    expect(tf.memory().numTensors).toBe(before);
    // The same frame outputs in batches of 1 and 2 give the same per-frame map counts.
    expect(results[1].perFrame.map).toEqual(results[0].perFrame.map);
  });

  it('requires a map output when the config has map classes', async () => {
    const noMap: PredictFn = () => ({ heatmap: tf.zeros([1, 32, 32, 6]), reg: tf.zeros([1, 32, 32, 10]) });
    await expect(evaluateModel(frames.slice(0, 1), noMap, CFG)).rejects.toThrow(BevzipError);
  });
});
