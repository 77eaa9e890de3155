import type * as tf from '@tensorflow/tfjs';
import { BevzipError, ERROR_CODES } from '../errors';
import { Rng } from '../rng';

/** A camera as the model saw it in one sample. */
export interface CameraCalibration {
  /** Sensor → ego pose: p_ego = R(rotation)·p_sensor + translation; rotation a unit quaternion [w, x, y, z]. */
  calib: { translation: readonly [number, number, number]; rotation: readonly [number, number, number, number] };
  /** 3×3 row-major intrinsics: [u·z, v·z, z] = K·p_sensor. */
  intrinsic: readonly [number, number, number, number, number, number, number, number, number];
  /** Image size in pixels, as the intrinsics address it. */
  width: number;
  height: number;
}

/** A BEV grid in the ego frame: row i ↔ x ∈ [xmin + i·cell, xmin + (i+1)·cell), column j ↔ y. */
export interface BevGridGeometry {
  xmin: number;
  ymin: number;
  cell: number;
  /** [rows, cols]. */
  size: readonly [number, number];
}

/**
 * Where a batch's samples were seen from: per sample, its cameras in the model's camera order
 * (calibrations may differ between samples, e.g. across nuScenes logs), and the BEV grid the model's
 * BEV features live on.
 */
export interface SensorGeometry {
  cameras: readonly (readonly CameraCalibration[])[];
  grid: BevGridGeometry;
}

/** A ground-truth box of one sample as BEV methods need it: ego-frame footprint and class. */
export interface BatchBox {
  /** Centre in the ego frame, metres. */
  x: number;
  y: number;
  /** Length along the heading and width, metres. */
  length: number;
  width: number;
  /** Heading of the length axis from +x, counter-clockwise, radians. */
  yaw: number;
  classIndex: number;
}

/** One training batch. The runtime takes ownership of `feeds` and disposes them after the step. */
export interface Batch {
  feeds: Record<string, tf.Tensor>;
  /** Whatever the task loss needs (boxes, labels); opaque to the runtime. */
  targets?: unknown;
  /** Samples in the batch, for throughput; default the first feed's leading dimension. */
  size?: number;
  /** Sensor geometry of the samples, for hooks that need calibrations (loss hooks read it as `ctx.batch.geometry`). */
  geometry?: SensorGeometry;
  /** Per sample, the ground-truth boxes the targets were built from (loss hooks read it as `ctx.batch.boxes`). */
  boxes?: readonly (readonly BatchBox[])[];
}

export interface BatchContext {
  /** The run seed: derive the data order from it, so a resumed run reads the same batches. */
  seed: number;
  stage: string;
}

/**
 * Training data addressed by step index, so a run resumed at step k reads exactly the batches an
 * uninterrupted run would have read from k on.
 */
export interface DataSource {
  batch(step: number, ctx: BatchContext): Batch | Promise<Batch>;
}

/**
 * The sample index for position `i` of a seeded order over `size` samples: each epoch is a fresh
 * permutation derived from (seed, epoch), so any position is computable without replaying the others.
 */
export function shuffledIndex(i: number, size: number, seed: number): number {
  const epoch = Math.floor(i / size);
  const order = Rng.derive(seed, `data-order:${epoch}`).shuffle(Array.from({ length: size }, (_, k) => k));
  return order[i % size];
}

/**
 * Adapts a (re)startable iterator of batches. Resuming at step k restarts the iterator and discards
 * k batches, so it is exact only for iterators that are deterministic from the start.
 */
export function iteratorSource(start: (ctx: BatchContext) => Iterator<Batch> | AsyncIterator<Batch>): DataSource {
  let it: Iterator<Batch> | AsyncIterator<Batch> | undefined;
  let position = 0;
  return {
    async batch(step, ctx) {
      if (!it || step < position) {
        it = start(ctx);
        position = 0;
      }
      for (;;) {
        const r = await it.next();
        if (r.done) throw new BevzipError(ERROR_CODES.CONFIG, `data source of stage '${ctx.stage}' ended after ${position} batches; step ${step} was asked for`);
        if (position++ === step) return r.value;
        for (const t of Object.values(r.value.feeds)) t.dispose();
      }
    },
  };
}
