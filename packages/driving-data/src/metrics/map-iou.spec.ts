import { MAP_IOU_THRESHOLDS, MapIouAccumulator } from './map-iou';

const eps = 1e-7;

describe('MapIouAccumulator', () => {
  const probs = Float32Array.from([0.9, 0.5, 0.4, 0.3, 0.7, 0.35]);
  const labels = Uint8Array.from([1, 1, 0, 1, 0, 0]);
  const quiet = new Float32Array(6).fill(0.1);
  const none = new Uint8Array(6);

  it('computes IoU per threshold, IoU@max per class and their mean (hand-computed)', () => {
    const acc = new MapIouAccumulator(['road', 'lane']);
    acc.update([probs, quiet], [labels, none]);
    const r = acc.result();
    // Positives per threshold (p ≥ t, thresholds and probabilities both float32):
    // 0.35 → {0,1,2,4,5}: TP 2, FP 3, FN 1; 0.40 → {0,1,2,4}: TP 2, FP 2, FN 1; 0.45, 0.50 → {0,1,4}: TP 2, FP 1, FN 1;
    // 0.55..0.65 → {0,4}: TP 1, FP 1, FN 2.
    const expected = [
      2 / (6 + eps),
      2 / (5 + eps),
      2 / (4 + eps),
      2 / (4 + eps),
      1 / (4 + eps),
      1 / (4 + eps),
      1 / (4 + eps),
    ];
    r.perClass.road.iouPerThreshold.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 14));
    expect(r.perClass.road.maxIou).toBeCloseTo(2 / (4 + eps), 14);
    expect(r.perClass.road.bestThreshold).toBe(0.45);
    // A class absent from labels and predictions has IoU 0 (the epsilon avoids 0/0).
    expect(r.perClass.lane.iouPerThreshold).toEqual(Array(7).fill(0));
    expect(r.meanIou).toBeCloseTo(2 / (4 + eps) / 2, 14);
  });

  it('sums counts over batches before dividing, unlike a mean of per-batch IoUs', () => {
    const split = new MapIouAccumulator(['road']);
    split.update([probs.subarray(0, 2)], [labels.subarray(0, 2)]);
    split.update([probs.subarray(2)], [labels.subarray(2)]);
    const whole = new MapIouAccumulator(['road']);
    whole.update([probs], [labels]);
    expect(split.result()).toEqual(whole.result());
    // First batch alone is perfect at every threshold; the set as a whole is not.
    expect(whole.result().meanIou).toBeLessThan(0.51);
  });

  it('treats any non-zero label as positive and forgets everything on reset', () => {
    const acc = new MapIouAccumulator(['road'], [0.5]);
    acc.update([Float32Array.from([0.6, 0.6])], [Uint8Array.from([255, 0])]);
    expect(acc.result().perClass.road.maxIou).toBeCloseTo(1 / (2 + eps), 14);
    acc.reset();
    acc.update([Float32Array.from([0.6])], [Uint8Array.from([1])]);
    expect(acc.result().perClass.road.maxIou).toBeCloseTo(1 / (1 + eps), 14);
  });

  it('uses the seven thresholds 0.35..0.65 by default', () => {
    expect(MAP_IOU_THRESHOLDS).toEqual([0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65]);
  });

  it('names the class whose probability and label lengths differ', () => {
    const acc = new MapIouAccumulator(['road', 'lane']);
    expect(() => acc.update([probs, quiet], [labels, new Uint8Array(5)])).toThrow(
      /class lane has 6 probabilities but 5 labels/,
    );
    expect(() => acc.update([probs], [labels])).toThrow(/expected 2 classes/);
    expect(() => new MapIouAccumulator(['a'], [0.5, 0.4])).toThrow(/strictly increasing/);
  });
});
