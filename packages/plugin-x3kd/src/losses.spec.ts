import * as tf from '@tensorflow/tfjs';
import { cameraCalib, pinholeIntrinsic } from '@bevzip/driving-data';
import type { CameraCalibration } from '@bevzip/ir';
import { activationMap, adversarialLoss, bceWithLogits, gaussianFocalLoss, generatorLoss, instanceLoss, weightedBoxLoss } from './losses';
import { boxesFromTargets, convexHull, instanceTargets, projectPoint, pseudoLabels } from './targets';

const softplus = (x: number) => Math.log(1 + Math.exp(x));
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
const close = (a: number, b: number, tol = 1e-5) => expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));
const num = (t: tf.Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

describe('discriminator and generator losses', () => {
  const t = [2.5, -0.5, 0.25, 1];
  const s = [-3, 0.5, 1.5, -0.25];
  it('BCE of logits matches −log σ(x) and −log(1 − σ(x)), also for large |x|', () => {
    close(num(bceWithLogits(tf.tensor(t), 1)), mean(t.map((x) => softplus(-x))));
    close(num(bceWithLogits(tf.tensor(s), 0)), mean(s.map((x) => softplus(x))));
    // 80 overflows e^x in float32; the stable form gives exactly 80.
    close(num(bceWithLogits(tf.tensor([80]), 0)), 80);
  });

  it('discriminator: BCE(D(B_T), 1) + BCE(D(B_S), 0) per patch and on the per-map mean', () => {
    const T = tf.tensor4d(t, [2, 1, 2, 1]);
    const S = tf.tensor4d(s, [2, 1, 2, 1]);
    close(num(adversarialLoss(T, S, 'patch')), mean(t.map((x) => softplus(-x))) + mean(s.map((x) => softplus(x))));
    const tg = [(t[0] + t[1]) / 2, (t[2] + t[3]) / 2];
    const sg = [(s[0] + s[1]) / 2, (s[2] + s[3]) / 2];
    close(num(adversarialLoss(T, S, 'global')), mean(tg.map((x) => softplus(-x))) + mean(sg.map((x) => softplus(x))));
    close(num(generatorLoss(S, 'patch')), mean(s.map((x) => softplus(-x))));
    tf.dispose([T, S]);
  });
});

describe('output distillation', () => {
  it('Gaussian focal loss equals a float64 loop (α = 2, γ = 4, positives exactly 1)', () => {
    const logits = [0.3, -1.2, 2.0, -0.4, 1.1, -2.5];
    const target = [1, 0.6, 0.1, 0, 1, 0.35];
    let sum = 0;
    let pos = 0;
    logits.forEach((x, i) => {
      const p = Math.min(Math.max(1 / (1 + Math.exp(-x)), 1e-4), 1 - 1e-4);
      if (target[i] === 1) {
        sum += -Math.log(p) * (1 - p) ** 2;
        pos++;
      } else sum += -Math.log(1 - p) * p ** 2 * (1 - target[i]) ** 4;
    });
    close(num(gaussianFocalLoss(tf.tensor4d(logits, [1, 2, 3, 1]), tf.tensor4d(target, [1, 2, 3, 1]))), sum / pos);
  });

  it('confidence-weighted Smooth-L1 averages channels per cell and divides by Σ w', () => {
    const s = [0.05, 2, -1, 0.5];
    const t = [0, 0, 0, 0.45];
    const w = [0.9, 0.4];
    const sl1 = (d: number, beta: number) => (Math.abs(d) < beta ? (0.5 * d * d) / beta : Math.abs(d) - 0.5 * beta);
    const beta = 1 / 9;
    const cell = [mean([sl1(0.05, beta), sl1(2, beta)]), mean([sl1(-1, beta), sl1(0.05, beta)])];
    close(num(weightedBoxLoss(tf.tensor4d(s, [1, 1, 2, 2]), tf.tensor4d(t, [1, 1, 2, 2]), tf.tensor3d(w, [1, 1, 2]), beta)), (0.9 * cell[0] + 0.4 * cell[1]) / 1.3);
  });

  it('pseudo-labels keep 3×3 peaks above τ, render Gaussians and weight boxes by score', () => {
    const prob = new Float32Array(25);
    prob[2 * 5 + 2] = 0.9; // a peak
    prob[2 * 5 + 3] = 0.8; // next to a higher value: not a peak
    prob[0] = 0.5; // a peak
    prob[4 * 5 + 4] = 0.2; // below τ
    const l = pseudoLabels(prob, [1, 5, 5, 1], { threshold: 0.3, radius: 1, confidenceWeighted: true });
    expect(l.count).toBe(2);
    const sigma = 3 / 6;
    expect(l.heatmap[12]).toBe(1);
    expect(l.heatmap[0]).toBe(1);
    close(l.heatmap[13], Math.exp(-1 / (2 * sigma * sigma)));
    close(l.heatmap[18], Math.exp(-2 / (2 * sigma * sigma)));
    expect(l.heatmap[24]).toBe(0);
    expect(Array.from(l.boxWeight).filter((v) => v > 0)).toEqual([Math.fround(0.5), Math.fround(0.9)]);
    const plain = pseudoLabels(prob, [1, 5, 5, 1], { threshold: 0.3, radius: 1, confidenceWeighted: false });
    expect(Array.from(plain.boxWeight).filter((v) => v > 0)).toEqual([1, 1]);
  });
});

describe('feature distillation target', () => {
  it('is the per-cell mean/max |·| or L2 over channels, divided by the sample maximum', () => {
    const bev = tf.tensor4d([1, -3, 0.5, 0.5, -2, 2, 0, 0], [1, 2, 2, 2]);
    expect(Array.from(activationMap(bev, 'mean-abs', false).dataSync())).toEqual([2, 0.5, 2, 0]);
    expect(Array.from(activationMap(bev, 'mean-abs', true).dataSync())).toEqual([1, 0.25, 1, 0]);
    expect(Array.from(activationMap(bev, 'max-abs', false).dataSync())).toEqual([3, 0.5, 2, 0]);
    const l2 = activationMap(bev, 'l2', false).dataSync();
    [Math.sqrt(10), Math.sqrt(0.5), Math.sqrt(8), 0].forEach((v, i) => close(l2[i], v));
    bev.dispose();
  });
});

describe('instance-segmentation targets', () => {
  const W = 88;
  const H = 32;
  const front: CameraCalibration = { calib: cameraCalib(0, 0, [0, 0, 1.5]), intrinsic: pinholeIntrinsic(W, H, 90), width: W, height: H };

  it('projects a point on the optical axis to the principal point at its depth', () => {
    const [u, v, z] = projectPoint(front, [10, 0, 1.5]);
    close(u, W / 2);
    close(v, H / 2);
    close(z, 10);
    // 1 m to the ego's left (+y) at 10 m lands f·0.1 px left of centre (f = W/2 at 90°).
    close(projectPoint(front, [10, 1, 1.5])[0], W / 2 - (W / 2) * 0.1);
  });

  it('convex hull drops interior points', () => {
    expect(convexHull([[0, 0], [2, 0], [1, 1], [2, 2], [0, 2]]).length).toBe(4);
  });

  it('recovers boxes from dense targets and marks the PV cells their projections cover', () => {
    // One car at head cell (i, j) = (20, 16) of a 32×32 head over a 64×64 grid of 0.8 m from −25.6 m.
    const Hh = 32;
    const heat = new Float32Array(Hh * Hh * 2);
    const reg = new Float32Array(Hh * Hh * 10);
    const regWeight = new Float32Array(Hh * Hh * 10);
    const c = 20 * Hh + 16;
    heat[c * 2 + 1] = 1;
    reg.set([0.5, 0.5, 1.5, Math.log(4), Math.log(2), Math.log(1.6), 0, 1, 0, 0], c * 10);
    regWeight.fill(1, c * 10, c * 10 + 10);
    const grid = { xmin: -25.6, ymin: -25.6, cell: 0.8, size: [64, 64] as [number, number] };
    const targets = { heatmap: { data: heat, shape: [1, Hh, Hh, 2] }, reg: { data: reg, shape: [1, Hh, Hh, 10] }, regWeight: { data: regWeight, shape: [1, Hh, Hh, 10] } };
    const boxes = boxesFromTargets(targets, grid);
    expect(boxes).toHaveLength(1);
    close(boxes[0].center[0], -25.6 + 20.5 * 1.6);
    close(boxes[0].center[1], -25.6 + 16.5 * 1.6);
    expect(boxes[0].classIndex).toBe(1);
    close(boxes[0].size[0], 4);
    // Centre at x = 7.2 m, y = 0.8 m: seen by the front camera, left of the image centre.
    const it = instanceTargets(boxes, [[front]], { h: 8, w: 22 }, 2, 0.2);
    expect(it.instances).toBe(1);
    const [cu, cv] = projectPoint(front, boxes[0].center);
    const col = Math.floor((cu * 22) / W);
    const row = Math.floor((cv * 8) / H);
    const o = row * 22 + col;
    expect(it.inside[o]).toBe(1);
    expect([it.masks[o * 2], it.masks[o * 2 + 1]]).toEqual([0, 1]);
    close(it.offsets[o * 2], (cu * 22) / W - (col + 0.5));
    expect(it.inside[0]).toBe(0);
    // Behind a camera looking backwards nothing is marked.
    const back = { ...front, calib: cameraCalib(180, 0, [0, 0, 1.5]) };
    expect(instanceTargets(boxes, [[back]], { h: 8, w: 22 }, 2, 0.2).instances).toBe(0);
    // The X-IS loss on these targets: mask BCE plus the masked offset L1.
    const logits = tf.zeros([1, 8, 22, 4]);
    const masks = tf.tensor4d(it.masks, [1, 8, 22, 2]);
    const offsets = tf.tensor4d(it.offsets, [1, 8, 22, 2]);
    const inside = tf.tensor4d(it.inside, [1, 8, 22, 1]);
    const cells = Array.from(it.inside).filter((v) => v === 1).length;
    const l1 = Array.from(it.offsets).reduce((s, v) => s + Math.abs(v), 0);
    close(num(instanceLoss(logits, masks, offsets, inside, 0.1)), Math.log(2) + (0.1 * l1) / cells);
    tf.dispose([logits, masks, offsets, inside]);
  });
});
