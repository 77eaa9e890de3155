import * as tf from '@tensorflow/tfjs';

/**
 * Relative error used by every backend comparison in bevzip:
 * `max|a − b| / max(1, max|b|)`, with `b` the reference. Absolute for values below 1,
 * relative to the largest reference magnitude above it.
 */
export function relativeError(actual: ArrayLike<number>, reference: ArrayLike<number>): number {
  if (actual.length !== reference.length) {
    throw new Error(`relativeError: length ${actual.length} differs from reference length ${reference.length}`);
  }
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - reference[i]);
    // NaN must fail the comparison rather than vanish in Math.max.
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return diff / scale;
}

/** Deterministic uniform numbers in [-1, 1) (mulberry32), so failures reproduce. */
export function seededUniform(count: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/**
 * Switches to `backend`, runs `fn` inside `tf.tidy`, reads every output and switches back to
 * the previously active backend. Inputs should be built inside `fn` from plain arrays.
 */
export async function computeOn(
  backend: string,
  fn: () => tf.Tensor | tf.Tensor[],
): Promise<{ shapes: number[][]; values: Float32Array[] }> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    const outs = tf.tidy(fn);
    const list = Array.isArray(outs) ? outs : [outs];
    const values = list.map((t) => Float32Array.from(t.dataSync()));
    const shapes = list.map((t) => t.shape.slice());
    tf.dispose(list);
    return { shapes, values };
  } finally {
    if (previous && previous !== backend) await tf.setBackend(previous);
  }
}
