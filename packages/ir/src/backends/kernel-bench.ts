import * as tf from '@tensorflow/tfjs';
import { initBackend } from './select-backend';
import { backpropErrorVsCpu } from './testing/backprop-check';
import { convCases } from './testing/conv-cases';

/** Timings of one benchmarked convolution shape on wasm (median milliseconds). */
export interface ConvBenchShape {
  name: string;
  xShape: [number, number, number, number];
  filterShape: [number, number, number, number];
  strides: number;
  forwardMs: number;
  backpropFilterMs: number;
  backpropInputMs: number;
  /** backpropFilterMs / forwardMs; both do the same multiply-adds. */
  filterOverForward: number;
  /** backpropInputMs / forwardMs; stride 2 spreads dy, so ≈ stride² more multiply-adds. */
  inputOverForward: number;
}

/** Result of {@link benchConvKernels}. */
export interface ConvBenchResult {
  /** Geometric mean over shapes of Conv2DBackpropFilter time / forward Conv2D time. */
  convBackpropFilterOverForward: number;
  /** Geometric mean over shapes of Conv2DBackpropInput time / forward Conv2D time. */
  convBackpropInputOverForward: number;
  /** Largest `max|wasm − cpu| / max(1, max|cpu|)` of Conv2DBackpropFilter over small shapes. */
  maxRelErrConvBackpropFilter: number;
  /** The same error for Conv2DBackpropInput. */
  maxRelErrConvBackpropInput: number;
  shapes: ConvBenchShape[];
}

/** Options of {@link benchConvKernels}. */
export interface ConvBenchOptions {
  /** Timed repetitions per kernel and shape (median taken); default 15. */
  repeats?: number;
}

const BENCH_SHAPES: { x: [number, number, number, number]; cout: number; strides: number }[] = [
  { x: [2, 64, 64, 32], cout: 32, strides: 1 },
  { x: [2, 64, 64, 32], cout: 32, strides: 2 },
  { x: [2, 32, 88, 16], cout: 32, strides: 1 },
  { x: [2, 32, 88, 16], cout: 32, strides: 2 },
];

// Runs the kernels in turn within each repetition, so load from other processes drifting
// over the measurement affects all of them alike; returns each kernel's median milliseconds.
function interleavedMedians(repeats: number, runs: (() => tf.Tensor)[]): number[] {
  for (const run of runs) run().dispose(); // first call creates and packs the XNNPACK operator
  const times = runs.map((): number[] => []);
  for (let i = 0; i < repeats; i++) {
    runs.forEach((run, k) => {
      const start = performance.now();
      const out = run();
      times[k].push(performance.now() - start);
      out.dispose();
    });
  }
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]);
}

const geomean = (v: number[]) => Math.exp(v.reduce((s, x) => s + Math.log(x), 0) / v.length);

/**
 * Times the wasm conv2d backprop kernels against the forward conv2d on realistic shapes
 * (batch 2, 3×3 filters, stride 1 and 2) and measures their error against the `cpu` backend
 * on small shapes. Runs on wasm and restores the previously active backend. Prints nothing.
 */
export async function benchConvKernels(options: ConvBenchOptions = {}): Promise<ConvBenchResult> {
  const repeats = options.repeats ?? 15;
  const previous = tf.getBackend();
  await initBackend({ backend: 'wasm', quiet: true });
  try {
    const shapes = BENCH_SHAPES.map(({ x: xShape, cout, strides }) => {
      const filterShape: [number, number, number, number] = [3, 3, xShape[3], cout];
      const x = tf.randomUniform(xShape) as tf.Tensor4D;
      const filter = tf.randomUniform(filterShape) as tf.Tensor4D;
      const y = tf.conv2d(x, filter, strides, 'same');
      const attrs = { strides, pad: 'same', dataFormat: 'NHWC' } as const;
      const [forwardMs, backpropFilterMs, backpropInputMs] = interleavedMedians(repeats, [
        () => tf.conv2d(x, filter, strides, 'same'),
        () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: y }, { ...attrs, filterShape }) as tf.Tensor,
        () => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: y, filter }, { ...attrs, inputShape: xShape }) as tf.Tensor,
      ]);
      tf.dispose([x, filter, y]);
      return {
        name: `${xShape.join('x')} -> ${cout}, 3x3, stride ${strides}`,
        xShape,
        filterShape,
        strides,
        forwardMs,
        backpropFilterMs,
        backpropInputMs,
        filterOverForward: backpropFilterMs / forwardMs,
        inputOverForward: backpropInputMs / forwardMs,
      };
    });
    let maxRelErrConvBackpropFilter = 0;
    let maxRelErrConvBackpropInput = 0;
    for (const c of convCases(7, false)) {
      const filterKernel = { kernelName: tf.Conv2DBackpropFilter, depthwise: false, wrt: 'filter' as const };
      const inputKernel = { kernelName: tf.Conv2DBackpropInput, depthwise: false, wrt: 'input' as const };
      maxRelErrConvBackpropFilter = Math.max(maxRelErrConvBackpropFilter, await backpropErrorVsCpu(filterKernel, c));
      maxRelErrConvBackpropInput = Math.max(maxRelErrConvBackpropInput, await backpropErrorVsCpu(inputKernel, c));
    }
    return {
      convBackpropFilterOverForward: geomean(shapes.map((s) => s.filterOverForward)),
      convBackpropInputOverForward: geomean(shapes.map((s) => s.inputOverForward)),
      maxRelErrConvBackpropFilter,
      maxRelErrConvBackpropInput,
      shapes,
    };
  } finally {
    if (previous && tf.getBackend() !== previous) await tf.setBackend(previous);
  }
}
