import * as tf from '@tensorflow/tfjs';
import { BevzipError } from '@bevzip/ir';
import { expectNoLeak } from '@bevzip/ir/testing';
import { boxEgoToGlobal, quatFromYaw, type Box3D, type DetectionClass } from '@bevzip/driving-data';
import { TINY_TASK_CONFIG as CFG } from './config';
import { decodeDetections, detectionsToEvalBoxes } from './decode';
import { logitOf } from './oracle';
import { buildDetectionTargets } from './targets';

const perfectLogits = (heatmap: Float32Array) => heatmap.map(logitOf);

function box(
  name: DetectionClass,
  center: [number, number, number],
  size: [number, number, number],
  yaw: number,
  velocity: [number, number],
): Box3D {
  return {
    center,
    size,
    yaw,
    velocity,
    detectionName: name,
    categoryName: '',
    attributeName: '',
    numLidarPts: 5,
    visibility: 4,
    instanceId: name,
  };
}

const BOXES = [
  box('car', [10.3, -3.7, 0.9], [4.6, 1.95, 1.7], 2.9, [3, -0.5]),
  box('pedestrian', [-7.9, 12.2, 0.85], [0.7, 0.65, 1.75], -1.2, [0.4, 1.1]),
  box('truck', [-20.1, -18.4, 1.5], [7, 2.5, 3], -3.0, [0, 0]),
  box('barrier', [21.7, 24.9, 0.5], [2, 0.5, 1], 0.4, [0, 0]),
  box('car', [12.0, -3.7, 0.8], [4.4, 1.9, 1.6], 0.1, [0, 0]),
];

describe('decodeDetections', () => {
  it('inverts the targets: perfect heat map and regression give back the boxes', () => {
    const t = buildDetectionTargets(BOXES, CFG);
    const [dets] = decodeDetections(
      { data: perfectLogits(t.heatmap), shape: [1, 32, 32, 6] },
      { data: t.reg, shape: [1, 32, 32, 10] },
      CFG,
    );
    expect(dets).toHaveLength(BOXES.length);
    for (const b of BOXES) {
      const d = dets.find(
        (x) =>
          x.detectionName === b.detectionName &&
          Math.hypot(x.center[0] - b.center[0], x.center[1] - b.center[1]) < 1e-4,
      );
      expect(d).toBeDefined();
      expect(d!.score).toBeCloseTo(1, 5);
      d!.center.forEach((v, k) => expect(v).toBeCloseTo(b.center[k], 5));
      d!.size.forEach((v, k) => expect(v).toBeCloseTo(b.size[k], 5));
      expect(Math.abs(Math.atan2(Math.sin(d!.yaw - b.yaw), Math.cos(d!.yaw - b.yaw)))).toBeLessThan(1e-5);
      d!.velocity.forEach((v, k) => expect(v).toBeCloseTo(b.velocity[k], 5));
    }
    expect(dets.find((d) => d.detectionName === 'car' && d.velocity[0] > 1)!.attributeName).toBe(
      'vehicle.moving',
    );
  });

  it('keeps local maxima only, thresholds at 0.05, takes the top K and reads tensors as well as arrays', () => {
    const hm = new Float32Array(32 * 32 * 6).fill(-10);
    const set = (i: number, j: number, c: number, p: number) =>
      (hm[(i * 32 + j) * 6 + c] = Math.log(p / (1 - p)));
    set(5, 5, 0, 0.9);
    set(5, 6, 0, 0.8); // suppressed by its neighbour
    set(5, 6, 1, 0.7); // another class: kept
    set(20, 20, 3, 0.04); // below the threshold
    set(31, 31, 5, 0.3); // corner peak
    set(0, 7, 2, 0.3); // equal score: cell order breaks the tie
    const reg = tf.zeros([1, 32, 32, 10]);
    const heat = tf.tensor4d(hm, [1, 32, 32, 6]);
    const [dets] = decodeDetections(heat, reg, CFG);
    expect(dets.map((d) => [d.detectionName, +d.score.toFixed(3)])).toEqual([
      ['car', 0.9],
      ['truck', 0.7],
      ['pedestrian', 0.3],
      ['barrier', 0.3],
    ]);
    // Cell (31, 31) with zero offsets: x = −25.6 + 31·1.6, size e⁰ = 1, yaw atan2(0, 0) = 0.
    expect(dets[3].center[0]).toBeCloseTo(24, 5);
    expect(dets[3].size).toEqual([1, 1, 1]);
    const top2 = decodeDetections(heat, reg, { ...CFG, decode: { topK: 2, scoreThreshold: 0.05 } })[0];
    expect(top2.map((d) => d.detectionName)).toEqual(['car', 'truck']);
    expectNoLeak(() => decodeDetections(heat, reg, CFG));
    tf.dispose([reg, heat]);
  });

  it('rejects outputs of the wrong shape', () => {
    const z = { data: new Float32Array(32 * 32 * 5), shape: [1, 32, 32, 5] };
    expect(() => decodeDetections(z, z, CFG)).toThrow(BevzipError);
  });

  it('turns ego detections into global EvalBoxes through the ego pose', () => {
    const egoPose = { translation: [100, 50, 0] as [number, number, number], rotation: quatFromYaw(0.5) };
    const t = buildDetectionTargets([BOXES[0]], CFG);
    const [dets] = decodeDetections(
      { data: perfectLogits(t.heatmap), shape: [1, 32, 32, 6] },
      { data: t.reg, shape: [1, 32, 32, 10] },
      CFG,
    );
    const [eb] = detectionsToEvalBoxes(dets, 'tok', egoPose);
    const g = boxEgoToGlobal(BOXES[0], egoPose);
    eb.translation.forEach((v, k) => expect(v).toBeCloseTo(g.center[k], 4));
    expect(eb.size).toEqual([dets[0].size[1], dets[0].size[0], dets[0].size[2]]);
    expect(eb.egoDist).toBeCloseTo(Math.hypot(10.3, -3.7), 4);
  });
});
