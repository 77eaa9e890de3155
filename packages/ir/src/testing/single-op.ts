import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../builder';
import type { Attrs, Graph } from '../graph';
import { run } from '../interpreter';
import { exportOnnx, type OnnxExportOptions } from '../onnx/export';
import { createOrtSession, runOrt } from '../onnx/ort';
import { ParamStore } from '../params';
import { maxRelError } from './numeric';

export interface OpCaseInput {
  name: string;
  value: tf.Tensor;
  /** Params become initializers in ONNX (weights); other inputs are graph inputs. */
  param?: boolean;
}

/** A one-node graph for testing an op, with its param values in a store. */
export function singleOpGraph(op: string, inputs: (OpCaseInput | null)[], attrs: Attrs = {}, outputs = 1): { graph: Graph; params: ParamStore; feeds: Record<string, tf.Tensor> } {
  const b = new GraphBuilder(`single_${op}`);
  const values = new Map<string, tf.Tensor>();
  const feeds: Record<string, tf.Tensor> = {};
  const names = inputs.map((inp) => {
    if (!inp) return '';
    if (inp.param) {
      values.set(inp.name, inp.value);
      return b.param(inp.name, inp.value.shape, { dtype: inp.value.dtype as 'float32' });
    }
    feeds[inp.name] = inp.value;
    return b.input(inp.name, inp.value.shape, inp.value.dtype as 'float32');
  });
  const outs = b.opMulti(op, names, attrs, { outputs });
  b.output(...outs);
  const graph = b.build();
  return { graph, params: ParamStore.fromTensors(graph, values), feeds };
}

/**
 * Exports the graph, runs it in onnxruntime-node and returns the worst {@link maxRelError} against
 * the interpreter over all outputs.
 */
export async function onnxParity(graph: Graph, params: ParamStore, feeds: Record<string, tf.Tensor>, options: OnnxExportOptions = {}): Promise<number> {
  const model = exportOnnx(graph, params, options);
  const session = await createOrtSession(model);
  const got = await runOrt(session, feeds);
  const { outputs } = run(graph, params, feeds);
  let worst = 0;
  for (const [name, t] of Object.entries(outputs)) {
    const o = got[name];
    if (!o) throw new Error(`onnxruntime returned no output '${name}'`);
    if (o.dims.join(',') !== t.shape.join(',')) throw new Error(`output '${name}': ORT shape [${o.dims}] vs interpreter [${t.shape}]`);
    worst = Math.max(worst, maxRelError(o.data, t.dataSync()));
  }
  Object.values(outputs).forEach((t) => t.dispose());
  return worst;
}
