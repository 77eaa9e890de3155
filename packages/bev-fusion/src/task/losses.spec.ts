import * as tf from '@tensorflow/tfjs';
import { BevzipError } from '@bevzip/ir';
import { checkGradients, expectNoLeak, randomTensor } from '@bevzip/ir/testing';
import { TINY_TASK_CONFIG as CFG } from './config';
import { gaussianFocalLoss, regressionL1Loss, sigmoidFocalLoss, taskLoss } from './losses';

const value = (t: tf.Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** float64 GaussianFocal straight from the definition. */
function gaussianFocalRef(x: number[], y: number[]): number {
  let sum = 0;
  let pos = 0;
  x.forEach((xi, k) => {
    const p = Math.min(Math.max(sigmoid(xi), 1e-4), 1 - 1e-4);
    if (y[k] === 1) {
      pos++;
      sum += -((1 - p) ** 2) * Math.log(p);
    } else sum += -((1 - y[k]) ** 4) * p * p * Math.log(1 - p);
  });
  return sum / Math.max(1, pos);
}

describe('GaussianFocal', () => {
  it('matches hand-computed values', () => {
    // p = σ(0, 2, −1): 0.25·ln 2 + 0.0625·0.8808²·(−ln 0.1192) + 0.2689²·(−ln 0.7311) = 0.2990747.
    const got = value(
      gaussianFocalLoss(tf.tensor4d([0, 2, -1], [1, 1, 3, 1]), tf.tensor4d([1, 0.5, 0], [1, 1, 3, 1])),
    );
    expect(got).toBeCloseTo(0.29907473886229163, 5);
    // No positive: the sum is divided by 1.
    expect(value(gaussianFocalLoss(tf.tensor1d([-1]), tf.tensor1d([0])))).toBeCloseTo(
      sigmoid(-1) ** 2 * -Math.log(1 - sigmoid(-1)),
      6,
    );
    // Clipped: a very confident correct logit costs (1e-4)²·(−ln(1 − 1e-4)).
    expect(value(gaussianFocalLoss(tf.tensor1d([30]), tf.tensor1d([1])))).toBeCloseTo(1e-8 * 1e-4, 10);
  });

  it('matches a float64 reference on a random heat map, divided by the number of peaks', () => {
    const x = randomTensor([2, 4, 4, 3], 11, 3);
    const yData = Array.from(randomTensor([2, 4, 4, 3], 12, 0.5).dataSync(), (v) => Math.abs(v));
    [3, 17, 40].forEach((i) => (yData[i] = 1));
    const y = tf.tensor4d(yData, [2, 4, 4, 3]);
    expect(value(gaussianFocalLoss(x, y))).toBeCloseTo(gaussianFocalRef(Array.from(x.dataSync()), yData), 5);
    checkGradients((a) => gaussianFocalLoss(a, y), [x]);
    tf.dispose([x, y]);
  });
});

describe('regression L1', () => {
  it('sums |pred − target|·weight·codeWeight and divides by the object cells', () => {
    const pred = tf.tensor3d([1, 2, 3, 4, 0, 0, 5, 5], [1, 4, 2]);
    const target = tf.tensor3d([0, 0, 3, 6, 9, 9, 0, 0], [1, 4, 2]);
    const weight = tf.tensor3d([1, 1, 1, 0, 0, 0, 1, 1], [1, 4, 2]);
    // Cells 0, 1 and 3 are objects: (1 + 2·0.5) + (0) + (5 + 5·0.5) = 9.5, over 3 objects.
    expect(value(regressionL1Loss(pred, target, weight, [1, 0.5]))).toBeCloseTo(9.5 / 3, 6);
    expect(value(regressionL1Loss(pred, target, tf.zerosLike(weight), [1, 0.5]))).toBe(0);
    expect(() => regressionL1Loss(pred, target, weight, [1])).toThrow(BevzipError);
    const p = randomTensor([1, 3, 3, 10], 5);
    const w = tf.tensor4d(
      Array.from({ length: 90 }, (_, i) => (i < 20 || i > 70 ? 1 : 0)),
      [1, 3, 3, 10],
    );
    const t = randomTensor([1, 3, 3, 10], 6);
    checkGradients((a) => regressionL1Loss(a, t, w, CFG.codeWeights), [p]);
    tf.dispose([pred, target, weight, p, w, t]);
  });
});

describe('map sigmoid focal', () => {
  it('averages BCE·(1 − p_t)² per class and sums over classes (hand-computed values)', () => {
    // Class 0 at x = (0.5, −2), y = (1, 0); class 1 at x = (3, 0), y = (0, 1).
    const x = tf.tensor4d([0.5, 3, -2, 0], [1, 1, 2, 2]);
    const y = tf.tensor4d([1, 0, 0, 1], [1, 1, 2, 2]);
    const c0 = (0.06757349051750361 + 0.0018035628352403763) / 2;
    const c1 = (2.7662804410252657 + 0.17328679513998632) / 2;
    expect(value(sigmoidFocalLoss(x, y))).toBeCloseTo(c0 + c1, 6);
    const big = randomTensor([2, 3, 3, 2], 9, 4);
    const lab = tf.tensor4d(
      Array.from({ length: 36 }, (_, i) => (i % 3 === 0 ? 1 : 0)),
      [2, 3, 3, 2],
    );
    checkGradients((a) => sigmoidFocalLoss(a, lab), [big]);
    tf.dispose([x, y, big, lab]);
  });

  it('stays finite for saturated logits', () => {
    const v = value(
      sigmoidFocalLoss(tf.tensor4d([80, -80], [1, 1, 1, 2]), tf.tensor4d([0, 1], [1, 1, 1, 2])),
    );
    expect(v).toBeCloseTo(80 * 2, 3);
  });
});

describe('taskLoss', () => {
  const pred = () => ({
    heatmap: randomTensor([1, 4, 4, 6], 1, 3),
    reg: randomTensor([1, 4, 4, 10], 2),
    map: randomTensor([1, 8, 8, 2], 3, 3),
  });
  const targets = () => {
    const hm = Array.from(randomTensor([1, 4, 4, 6], 4, 1).dataSync(), (v) => Math.abs(v) * 0.9);
    hm[7] = 1;
    const w = new Array(160).fill(0);
    for (let c = 0; c < 10; c++) w[10 + c] = 1;
    return {
      heatmap: tf.tensor4d(hm, [1, 4, 4, 6]),
      reg: randomTensor([1, 4, 4, 10], 5),
      regWeight: tf.tensor4d(w, [1, 4, 4, 10]),
      map: tf.tensor4d(
        Array.from({ length: 128 }, (_, i) => i % 2),
        [1, 8, 8, 2],
      ),
    };
  };

  it('weights and sums the three terms, without leaking tensors', () => {
    const p = pred();
    const t = targets();
    const terms = taskLoss(p, t, CFG);
    const h = value(gaussianFocalLoss(p.heatmap, t.heatmap));
    const r = value(regressionL1Loss(p.reg, t.reg, t.regWeight, CFG.codeWeights));
    const m = value(sigmoidFocalLoss(p.map, t.map));
    expect(terms.heatmap.dataSync()[0]).toBeCloseTo(h, 5);
    expect(terms.reg.dataSync()[0]).toBeCloseTo(0.25 * r, 5);
    expect(terms.map.dataSync()[0]).toBeCloseTo(m, 5);
    expect(terms.total.dataSync()[0]).toBeCloseTo(h + 0.25 * r + m, 5);
    tf.dispose(Object.values(terms));
    const noMap = taskLoss({ heatmap: p.heatmap, reg: p.reg }, t, CFG);
    expect(noMap.map.dataSync()[0]).toBe(0);
    tf.dispose(Object.values(noMap));
    expectNoLeak(() => tf.dispose(Object.values(taskLoss(p, t, CFG))));
    expectNoLeak(() =>
      tf.dispose(
        tf.grads((a, b, c) => taskLoss({ heatmap: a, reg: b, map: c }, t, CFG).total)([
          p.heatmap,
          p.reg,
          p.map,
        ]),
      ),
    );
    tf.dispose([...Object.values(p), ...Object.values(t)]);
  });

  it('has the gradient of its total', () => {
    const p = pred();
    const t = targets();
    checkGradients(
      (a, b, c) => taskLoss({ heatmap: a, reg: b, map: c }, t, CFG).total,
      [p.heatmap, p.reg, p.map],
    );
    tf.dispose([...Object.values(p), ...Object.values(t)]);
  });

  it('names the output whose shape differs from its target', () => {
    const p = pred();
    const t = targets();
    expect(() => taskLoss({ ...p, reg: p.heatmap }, t, CFG)).toThrow(
      /prediction 'reg' has shape \[1,4,4,6\]/,
    );
    tf.dispose([...Object.values(p), ...Object.values(t)]);
  });
});
