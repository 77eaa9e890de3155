import * as tf from '@tensorflow/tfjs';
import { withCustomGrad } from './custom-grad';

/** Spreads [B, OH, OW, C] onto a [B, H, W, C] grid at rows u + i·sh and columns v + j·sw. */
function placeStrided(t: tf.Tensor, u: number, v: number, sh: number, sw: number, h: number, w: number): tf.Tensor {
  const [b, oh, ow, c] = t.shape;
  const spread = t.reshape([b, oh, 1, ow, 1, c]).pad([[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]).reshape([b, oh * sh, ow * sw, c]);
  const [kh, kw] = [Math.min(oh * sh, h - u), Math.min(ow * sw, w - v)];
  return spread.slice([0, 0, 0, 0], [b, kh, kw, c]).pad([[0, 0], [u, h - u - kh], [v, w - v - kw], [0, 0]]);
}

/**
 * 'valid' max pooling of an already padded NHWC map whose gradient goes to the first maximum of
 * each window (row-major), built from slices and comparisons. The wasm backend's MaxPoolGrad
 * routes gradients wrongly on some padded maps, and the core ops here behave alike everywhere.
 */
export function maxPoolValid(x: tf.Tensor4D, kernel: [number, number], strides: [number, number]): tf.Tensor4D {
  const [kh, kw] = kernel;
  const [sh, sw] = strides;
  return withCustomGrad([x], ([xi], save) => {
    const y = tf.maxPool(xi as tf.Tensor4D, kernel, strides, 'valid');
    save([xi, y]);
    return {
      value: y,
      gradFunc: (dy, [xs, ys]) => {
        const [b, h, w, c] = xs.shape;
        const [, oh, ow] = ys.shape;
        let taken = tf.zeros(ys.shape, 'bool');
        let dx = tf.zeros(xs.shape);
        for (let u = 0; u < kh; u++)
          for (let v = 0; v < kw; v++) {
            const tap = tf.stridedSlice(xs, [0, u, v, 0], [b, u + (oh - 1) * sh + 1, v + (ow - 1) * sw + 1, c], [1, sh, sw, 1]);
            const wins = tf.logicalAnd(tf.equal(tap, ys), tf.logicalNot(taken));
            taken = tf.logicalOr(taken, wins);
            dx = tf.add(dx, placeStrided(tf.where(wins, dy, tf.zerosLike(dy)), u, v, sh, sw, h, w));
          }
        return dx;
      },
    };
  }) as tf.Tensor4D;
}
