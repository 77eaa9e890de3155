import type * as tf from '@tensorflow/tfjs';
import type { Graph } from '../graph';
import { run } from '../interpreter';
import type { ParamStore } from '../params';

/**
 * A frozen teacher: computes named values for a batch without gradients. The interpreter runner
 * below is the reference; an onnxruntime runner (taps exported as extra outputs) fits the same seam.
 */
export interface TeacherRunner {
  /** The teacher's graph, for resolving tap selectors. */
  readonly graph: Graph;
  /** Values named in `taps`; the caller owns the returned tensors. */
  run(feeds: Readonly<Record<string, tf.Tensor>>, taps: readonly string[]): Record<string, tf.Tensor> | Promise<Record<string, tf.Tensor>>;
}

/** A teacher run by the tfjs interpreter in inference mode (batch norm uses running statistics). */
export function interpreterTeacher(graph: Graph, params: ParamStore): TeacherRunner {
  return {
    graph,
    run: (feeds, taps) => (taps.length === 0 ? {} : run(graph, params, feeds, { outputs: [], taps, training: false }).taps),
  };
}
