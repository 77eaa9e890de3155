import { BevzipError, ERROR_CODES, Rng } from '@bevzip/ir';
import type { Frame } from '@bevzip/driving-data';
import { makeBatch, type Batch } from './batch';
import type { TaskConfig } from './config';

/** Options of {@link FrameBatchSource}. */
export interface BatchSourceOptions {
  batchSize: number;
  /** Seed of the per-epoch shuffles. */
  seed: number;
  /** Shuffle each epoch (default true); false keeps the frames' order. */
  shuffle?: boolean;
  /** Skip an epoch's last partial batch (default false). */
  dropLast?: boolean;
}

/**
 * A deterministic, resumable stream of batches over a fixed list of frames. Step s belongs to
 * epoch ⌊s / stepsPerEpoch⌋, whose order is a Fisher–Yates shuffle drawn from a stream derived
 * from (seed, epoch) alone, so `batchAt(s)` is a pure function of s: resuming a run at step s
 * needs nothing but s.
 */
export class FrameBatchSource {
  readonly stepsPerEpoch: number;
  private readonly batchSize: number;
  private readonly seed: number;
  private readonly shuffle: boolean;
  private cachedEpoch = -1;
  private cachedOrder: number[] = [];

  constructor(
    private readonly frames: readonly Frame[],
    private readonly cfg: TaskConfig,
    options: BatchSourceOptions,
  ) {
    const { batchSize, seed } = options;
    if (!(Number.isInteger(batchSize) && batchSize > 0)) {
      throw new BevzipError(
        ERROR_CODES.CONFIG,
        `batch source: batchSize must be a positive integer, got ${batchSize}`,
      );
    }
    const steps = options.dropLast
      ? Math.floor(frames.length / batchSize)
      : Math.ceil(frames.length / batchSize);
    if (steps === 0) {
      throw new BevzipError(
        ERROR_CODES.CONFIG,
        `batch source: ${frames.length} frames give no batch of ${batchSize}${options.dropLast ? ' with dropLast' : ''}`,
      );
    }
    this.batchSize = batchSize;
    this.seed = seed;
    this.shuffle = options.shuffle ?? true;
    this.stepsPerEpoch = steps;
  }

  /** The epoch a step belongs to. */
  epochOf(step: number): number {
    return Math.floor(step / this.stepsPerEpoch);
  }

  /** The frame order of an epoch (a permutation of 0 … n−1). */
  epochOrder(epoch: number): number[] {
    if (epoch !== this.cachedEpoch) {
      const order = this.frames.map((_, i) => i);
      if (this.shuffle) Rng.derive(this.seed, `batch-order:epoch:${epoch}`).shuffle(order);
      this.cachedEpoch = epoch;
      this.cachedOrder = order;
    }
    return this.cachedOrder;
  }

  /** Indices into the frame list of the batch at `step`. */
  indicesAt(step: number): number[] {
    if (!(Number.isInteger(step) && step >= 0)) {
      throw new BevzipError(
        ERROR_CODES.CONFIG,
        `batch source: step must be a non-negative integer, got ${step}`,
      );
    }
    const order = this.epochOrder(this.epochOf(step));
    const start = (step % this.stepsPerEpoch) * this.batchSize;
    return order.slice(start, start + this.batchSize);
  }

  /** The batch at `step` (tensors owned by the caller; see `disposeBatch`). */
  batchAt(step: number): Batch {
    return makeBatch(
      this.indicesAt(step).map((i) => this.frames[i]),
      this.cfg,
    );
  }
}
