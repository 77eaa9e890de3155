import * as tf from '@tensorflow/tfjs';
import type { Graph, NodeDef } from '../graph';
import { parseAttrs } from '../infer';
import { getOp } from '../ops';
import { ParamStore } from '../params';
import { consumersOf, reinfer } from './reinfer';

/**
 * Folds every eval-mode batch norm that directly follows a conv2d or dense (whose output feeds
 * nothing else) into that layer's weight and bias: W′ = W·s, b′ = (b − μ)·s + β with s = γ/√(σ² + ε)
 * per output channel. The batch norm's output name moves to the layer, so taps and outputs keep their
 * names. Layers whose output is in `keep` (values a caller still reads, e.g. exported taps) are left
 * alone. Returns a new graph and a new param store; the inputs are left untouched.
 */
export function foldBatchNorm(graph: Graph, params: ParamStore, keep: ReadonlySet<string> = new Set()): { graph: Graph; params: ParamStore } {
  const g = structuredClone(graph);
  const store = params.clone();
  const consumers = consumersOf(g);
  const outputs = new Set(g.outputs);
  const drop = new Set<NodeDef>();
  for (const bn of g.nodes) {
    if (bn.op !== 'batchnorm') continue;
    const layer = g.nodes.find((n) => n.outputs[0] === bn.inputs[0]);
    if (!layer || (layer.op !== 'conv2d' && layer.op !== 'dense')) continue;
    if ((consumers.get(layer.outputs[0]) ?? []).length !== 1 || outputs.has(layer.outputs[0]) || keep.has(layer.outputs[0])) continue;
    if (!store.has(layer.inputs[1]) || bn.inputs.slice(1).some((p) => !store.has(p))) continue;
    const { eps } = parseAttrs(getOp('batchnorm'), bn) as { eps: number };
    const [gamma, beta, mean, variance] = bn.inputs.slice(1).map((p) => store.get(p));
    const weightName = layer.inputs[1];
    let biasName = layer.inputs[2];
    const [newW, newB] = tf.tidy(() => {
      const s = gamma.div(variance.add(eps).sqrt());
      const w = store.get(weightName).mul(s);
      const b0 = biasName ? store.get(biasName) : tf.zerosLike(mean);
      return [w, b0.sub(mean).mul(s).add(beta)];
    });
    store.set(weightName, newW);
    if (!biasName) {
      biasName = `${layer.scope ? layer.scope + '.' : ''}${layer.name.split('.').pop()}_folded_bias`;
      const template = g.params.find((p) => p.name === bn.inputs[2])!;
      g.params.push({ ...template, name: biasName, role: 'bias', init: { kind: 'zeros' }, scope: layer.scope, tags: { ...layer.tags } });
      layer.inputs[2] = biasName;
    }
    store.set(biasName, newB, true);
    tf.dispose([newW, newB]);
    layer.outputs[0] = bn.outputs[0];
    drop.add(bn);
  }
  g.nodes = g.nodes.filter((n) => !drop.has(n));
  const used = new Set(g.nodes.flatMap((n) => n.inputs));
  g.params = g.params.filter((p) => used.has(p.name));
  const folded = reinfer(g);
  store.retain(folded);
  return { graph: folded, params: store };
}
