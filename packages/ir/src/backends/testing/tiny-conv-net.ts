import * as tf from '@tensorflow/tfjs';
import { batchNormPlain } from '../batch-norm-plain';
import { seededUniform } from './compare-backends';

/** Weights of {@link tinyConvNetLoss}: conv layers with batch norm, then a depthwise conv. */
export interface TinyConvNet {
  filters: tf.Variable[];
  gammas: tf.Variable[];
  betas: tf.Variable[];
  depthwise: tf.Variable;
}

/**
 * Builds a small all-conv net with seeded weights: `layers` 3×3 convs (the second with stride
 * 2) of `width` channels, each followed by plain-op batch norm and relu, then a 3×3 depthwise
 * conv. Used to check training gradients end to end and to time a training step.
 */
export function tinyConvNet(inChannels: number, width: number, layers: number, seed: number): TinyConvNet {
  const net: TinyConvNet = { filters: [], gammas: [], betas: [], depthwise: undefined as unknown as tf.Variable };
  for (let l = 0; l < layers; l++) {
    const cin = l === 0 ? inChannels : width;
    const scale = Math.sqrt(2 / (9 * cin));
    const filter = Float32Array.from(seededUniform(9 * cin * width, seed + l), (v) => v * scale);
    net.filters.push(variableFrom(tf.tensor(filter, [3, 3, cin, width])));
    net.gammas.push(variableFrom(tf.ones([width])));
    net.betas.push(variableFrom(tf.zeros([width])));
  }
  net.depthwise = variableFrom(tf.tensor(seededUniform(9 * width, seed + 99), [3, 3, width, 1]));
  return net;
}

// tf.variable keeps its initial tensor alive; dispose it so building a net leaks nothing.
function variableFrom(initial: tf.Tensor): tf.Variable {
  const v = tf.variable(initial);
  initial.dispose();
  return v;
}

/** Mean squared error of the net's output against `target` (shape [N, H/2, W/2, width]). */
export function tinyConvNetLoss(net: TinyConvNet, x: tf.Tensor4D, target: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    let h: tf.Tensor4D = x;
    net.filters.forEach((f, l) => {
      h = tf.conv2d(h, f as tf.Tensor4D, l === 1 ? 2 : 1, 'same');
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      h = tf.relu(batchNormPlain(h, mean, variance, net.gammas[l], net.betas[l], 1e-5));
    });
    h = tf.depthwiseConv2d(h, net.depthwise as tf.Tensor4D, 1, 'same');
    return tf.losses.meanSquaredError(target, h) as tf.Scalar;
  });
}

/** Every trainable weight of the net, in a fixed order. */
export function tinyConvNetWeights(net: TinyConvNet): tf.Variable[] {
  return [...net.filters, ...net.gammas, ...net.betas, net.depthwise];
}
