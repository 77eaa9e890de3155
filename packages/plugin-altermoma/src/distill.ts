import * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES, type LossContext, type PluginHooks } from '@bevzip/ir';
import type { HeadDistillOptions } from './options';

/** The value unchanged, with a zero gradient: teacher tensors are targets, never trained. */
export const constantTarget = tf.customGrad(((x: tf.Tensor) => ({
  value: x.clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as never) as (x: tf.Tensor) => tf.Tensor;

/**
 * Response distillation of a sigmoid head: mean over every element (batch, cells, classes) of
 * (σ(z_S) − σ(z_T))², the teacher's logits a constant target. Squared error on probabilities is
 * bounded (gradient ≤ ½ per element, whatever the logits) and weighs background cells like object
 * cells, so the pruned model also relearns the dense model's suppression of false peaks.
 */
export function sigmoidMse(student: tf.Tensor, teacher: tf.Tensor): tf.Scalar {
  if (student.shape.join(',') !== teacher.shape.join(','))
    throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `head distillation: student output [${student.shape}] and teacher output [${teacher.shape}] differ`);
  return tf.tidy(() => tf.mean(tf.squaredDifference(tf.sigmoid(student), tf.sigmoid(constantTarget(teacher)))) as tf.Scalar);
}

/** The `loss` hook: one term per distilled output, named after it. */
export function headDistillHooks(name: string, o: HeadDistillOptions): PluginHooks<HeadDistillOptions> {
  return {
    transform: (graph, ctx) => {
      const missing = o.outputs.filter((out) => !graph.outputs.includes(out));
      if (missing.length > 0)
        throw new BevzipError(ERROR_CODES.CONFIG, `${name}: option 'outputs' names ${missing.map((m) => `'${m}'`).join(', ')}, not an output of the student graph (outputs: ${graph.outputs.join(', ')})`);
      if (!ctx.teacherGraph) throw new BevzipError(ERROR_CODES.PLUGIN_REQUIREMENT, `${name}: stage '${ctx.stage.name}' has no teacher; give the stage the dense model as its teacher`);
    },
    loss: (ctx: LossContext<HeadDistillOptions>) => {
      const teacher = ctx.teacher?.taps;
      if (!teacher) throw new BevzipError(ERROR_CODES.PLUGIN_REQUIREMENT, `${name}: stage '${ctx.stage.name}' has no teacher taps; give the stage the dense model as its teacher`);
      const terms: Record<string, { value: tf.Scalar; weight?: number; gradientShare?: number }> = {};
      for (const out of o.outputs) {
        const s = ctx.student.outputs[out];
        if (!s) throw new BevzipError(ERROR_CODES.CONFIG, `${name}: option 'outputs' names '${out}', which is not an output of the student graph (outputs: ${Object.keys(ctx.student.outputs).join(', ')})`);
        const value = sigmoidMse(s, teacher[out]);
        terms[out] = o.gradientShare === undefined ? { value, weight: o.weight } : { value, gradientShare: o.gradientShare };
      }
      return terms;
    },
  };
}
