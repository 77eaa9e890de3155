import * as tf from '@tensorflow/tfjs';

/** What a custom-gradient body returns: the value and the gradient of each input given dy. */
export interface CustomGradResult {
  value: tf.Tensor;
  /** Receives dy and the tensors handed to `save`; returns one gradient per input, in order. */
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
}

/**
 * Typed front for `tf.customGrad` over a fixed list of inputs. Index tensors and other
 * non-differentiable operands must reach the backward through `save`: tensors merely closed over
 * are disposed by the caller's `tf.tidy` before the gradient runs, whereas saved ones are kept on
 * the tape until the backward pass is done.
 */
export function withCustomGrad(inputs: tf.Tensor[], body: (xs: tf.Tensor[], save: tf.GradSaveFunc) => CustomGradResult): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    return body(args.slice(0, -1) as tf.Tensor[], save);
  });
  return op(...inputs);
}
