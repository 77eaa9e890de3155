import * as tf from '@tensorflow/tfjs';
import {
  benchConvKernels,
  createOrtSession,
  exportOnnx,
  GraphBuilder,
  initBackend,
  ParamStore,
  run,
  runOrt,
  type Graph,
} from '@bevzip/ir';
import { interleavedMedians, round } from './timing';

/** The JSON printed by `bevzip bench kernels --json`. */
export interface KernelBenchReport {
  backend: string;
  convBackpropFilterOverForward: number;
  convBackpropInputOverForward: number;
  maxRelErrConvBackpropFilter: number;
  maxRelErrConvBackpropInput: number;
  interpreterOverPlainTfjs: number;
  ortOverInterpreter: number;
  interpreterForwardMs: number;
  plainTfjsForwardMs: number;
  ortForwardMs: number;
  network: string;
  machine: { cpus: number; node: string };
}

const LAYERS = [
  { cout: 32, stride: 1 },
  { cout: 32, stride: 2 },
  { cout: 64, stride: 1 },
  { cout: 64, stride: 2 },
];
const INPUT: [number, number, number, number] = [2, 64, 64, 16];

/** A small conv net (conv + bias + relu ×4) as an IR graph. */
function buildNet(): Graph {
  const b = new GraphBuilder('bench_convnet');
  let x = b.input('x', [-1, INPUT[1], INPUT[2], INPUT[3]]);
  let cin = INPUT[3];
  LAYERS.forEach(({ cout, stride }, i) => {
    x = b.scoped(`conv${i}`, {}, () => {
      const w = b.param('weight', [3, 3, cin, cout]);
      const bias = b.param('bias', [cout], { role: 'bias' });
      return b.op('relu', [b.op('conv2d', [x, w, bias], { strides: stride, pad: 'same' })]);
    });
    cin = cout;
  });
  b.output(x);
  return b.build();
}

/** The same net written directly with tfjs calls and the same explicit padding. */
function plainForward(params: ParamStore, x: tf.Tensor4D): tf.Tensor {
  let y: tf.Tensor4D = x;
  LAYERS.forEach(({ stride }, i) => {
    const [h] = [y.shape[1]];
    const total = Math.max((Math.ceil(h / stride) - 1) * stride + 3 - h, 0);
    const p: [number, number] = [Math.floor(total / 2), total - Math.floor(total / 2)];
    const conv = tf.conv2d(y, params.get(`conv${i}.weight`) as tf.Tensor4D, stride, [[0, 0], p, p, [0, 0]]);
    y = tf.relu(tf.add(conv, params.get(`conv${i}.bias`))) as tf.Tensor4D;
  });
  return y;
}

/**
 * Measures, in one run: the wasm conv backprop kernels against forward conv, the interpreter's
 * overhead over plain tfjs on the same network, and onnxruntime-node's forward latency against the
 * interpreter's.
 */
export async function benchKernels(options: { repeats?: number } = {}): Promise<KernelBenchReport> {
  const repeats = options.repeats ?? 15;
  const conv = await benchConvKernels({ repeats: Math.max(5, Math.floor(repeats / 2)) });
  const backend = await initBackend({ quiet: true });
  const graph = buildNet();
  const params = ParamStore.init(graph, 0);
  const x = tf.randomUniform(INPUT) as tf.Tensor4D;
  const session = await createOrtSession(exportOnnx(graph, params), { threads: 1 });
  const host = { data: x.dataSync() as Float32Array, dims: [...INPUT] };
  const [interpMs, plainMs, ortMs] = await interleavedMedians(
    [
      () => {
        const out = run(graph, params, { x }).outputs[graph.outputs[0]];
        out.dataSync();
        out.dispose();
      },
      () => {
        const out = tf.tidy(() => plainForward(params, x));
        out.dataSync();
        out.dispose();
      },
      () => runOrt(session, { x: host }),
    ],
    repeats,
  );
  x.dispose();
  params.dispose();
  return {
    backend,
    convBackpropFilterOverForward: round(conv.convBackpropFilterOverForward),
    convBackpropInputOverForward: round(conv.convBackpropInputOverForward),
    maxRelErrConvBackpropFilter: conv.maxRelErrConvBackpropFilter,
    maxRelErrConvBackpropInput: conv.maxRelErrConvBackpropInput,
    interpreterOverPlainTfjs: round(interpMs / plainMs),
    ortOverInterpreter: round(ortMs / interpMs),
    interpreterForwardMs: round(interpMs, 2),
    plainTfjsForwardMs: round(plainMs, 2),
    ortForwardMs: round(ortMs, 2),
    network: `4× (conv3×3 + bias + relu), input [${INPUT}], channels ${LAYERS.map((l) => l.cout)}, strides ${LAYERS.map((l) => l.stride)}`,
    machine: { cpus: require('node:os').cpus().length, node: process.version },
  };
}
