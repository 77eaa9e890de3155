import { BevzipError, ERROR_CODES, GraphBuilder, type Graph, type NodeDef, type Shape, type Tags } from '@bevzip/ir';

/** Tags of every node and param the plugin adds: `stripTrainOnly` removes them before export. */
export const TRAIN_ONLY_TAGS: Tags = { modality: 'camera', stage: 'adapter', trainOnly: true };

/** Value names of the train-only modules' outputs (student graph) and of the discriminator's input. */
export const MODULE_VALUES = {
  isLogits: 'x3kd.is.out',
  fdOut: 'x3kd.fd.out',
  atIn: 'x3kd.at.in',
  atLogits: 'x3kd.at.out',
} as const;

function convRelu(b: GraphBuilder, x: string, name: string, cin: number, cout: number, k: number, strides = 1): string {
  return b.scoped(name, {}, () => {
    const w = b.param('weight', [k, k, cin, cout], { init: { kind: 'heNormal' } });
    const bias = b.param('bias', [cout], { role: 'bias' });
    return b.op('relu', [b.op('conv2d', [x, w, bias], { strides, pad: 'same' })]);
  });
}

function conv(b: GraphBuilder, x: string, name: string, cin: number, cout: number, k: number, init = 0): string {
  return b.scoped(name, {}, () => {
    const w = b.param('weight', [k, k, cin, cout], { init: { kind: 'normal', std: 0.01 } });
    const bias = b.param('bias', [cout], { role: 'bias', init: init === 0 ? { kind: 'zeros' } : { kind: 'constant', value: init } });
    return b.op('conv2d', [x, w, bias], { pad: 'same' });
  });
}

/** A module as its own graph whose input carries the name of the value it reads. */
function moduleGraph(name: string, input: string, shape: Shape, body: (b: GraphBuilder, x: string) => string, outputName: string): Graph {
  const b = new GraphBuilder(name);
  const x = b.input(input, shape);
  const y = b.scoped(name, TRAIN_ONLY_TAGS, () => body(b, x));
  const out = b.scoped(name, TRAIN_ONLY_TAGS, () => b.op('scale', [y], { factor: 1 }, { name: 'out' }));
  if (out !== outputName) throw new Error(`module output '${out}' is not '${outputName}'`);
  b.output(out);
  return b.build();
}

/** X-IS head: conv3×3 → ReLU → conv1×1 to K class-mask logits and a 2-channel centre offset. */
export function isHead(imageTap: string, shape: Shape, classes: number, channels: number): Graph {
  const cin = shape[3];
  return moduleGraph('x3kd.is', imageTap, shape, (b, x) => conv(b, convRelu(b, x, 'conv1', cin, channels, 3), 'conv2', channels, classes + 2, 1), MODULE_VALUES.isLogits);
}

/** X-FD decoder Dec_FD: conv3×3 → ReLU → conv1×1 to one activation per BEV cell. */
export function fdDecoder(bevTap: string, shape: Shape, channels: number): Graph {
  const cin = shape[3];
  return moduleGraph('x3kd.fd', bevTap, shape, (b, x) => conv(b, convRelu(b, x, 'conv1', cin, channels, 3), 'conv2', channels, 1, 1), MODULE_VALUES.fdOut);
}

/** X-AT discriminator: conv3×3 → ReLU → conv3×3/2 → ReLU → conv1×1, one logit per BEV patch. */
export function discriminator(shape: Shape, channels: number): Graph {
  const cin = shape[3];
  return moduleGraph(
    'x3kd.at',
    MODULE_VALUES.atIn,
    shape,
    (b, x) => conv(b, convRelu(b, convRelu(b, x, 'conv1', cin, channels, 3), 'conv2', channels, channels, 3, 2), 'conv3', channels, 1, 1),
    MODULE_VALUES.atLogits,
  );
}

/** Appends a module's params and nodes to the student graph; its input must be a student value already. */
export function attach(student: Graph, module: Graph, extraNodes: NodeDef[] = [], extraValues: Graph['values'] = {}): Graph {
  for (const p of module.params) {
    if (student.params.some((q) => q.name === p.name)) throw new BevzipError(ERROR_CODES.GRAPH_INVALID, `x3kd: the student graph already has a param '${p.name}'`);
  }
  return {
    ...student,
    params: [...student.params, ...module.params],
    nodes: [...student.nodes, ...extraNodes, ...module.nodes],
    values: { ...student.values, ...extraValues, ...module.values },
  };
}

/**
 * The gradient-reversal node feeding the discriminator from the student BEV. Its λ schedule is an
 * attribute and the runtime's stage progress picks λ at each step, so the graph is built once.
 */
export function grlNode(studentBev: string, grl: { lambda: number; schedule: 'constant' | 'dann'; gamma: number }): NodeDef {
  const attrs = { lambda: grl.lambda, schedule: grl.schedule, gamma: grl.gamma };
  return { name: 'x3kd.at.grl', op: 'grad_reverse', inputs: [studentBev], outputs: [MODULE_VALUES.atIn], attrs, scope: 'x3kd.at', tags: { ...TRAIN_ONLY_TAGS } };
}
