import * as tf from '@tensorflow/tfjs';
import { Rng } from '@bevzip/ir';
import { MODEL_INPUTS } from './build';
import { modelGeometry, type BevFusionConfig, type ModelModality } from './config';

export interface RandomFeedOptions {
  batch?: number;
  seed?: number;
  /** Fraction of frustum points that fall outside the grid (index −1); default 0.2. */
  cameraDropout?: number;
  /** Fraction of pillar slots that are padding (coords −1); default 0.3. */
  pillarPadding?: number;
}

/**
 * Seeded random inputs of the right shapes and ranges for a BEVFusion graph: images in [0, 1],
 * cell indices in [−1, X·Y), pillars at distinct cells with a random number of real points each
 * (padded points zero, mask 0). For smoke tests and benchmarks, not for training.
 */
export function randomModelFeeds(
  config: BevFusionConfig,
  modality: ModelModality,
  options: RandomFeedOptions = {},
): Record<string, tf.Tensor> {
  const { batch = 1, seed = 0, cameraDropout = 0.2, pillarPadding = 0.3 } = options;
  const rng = Rng.derive(seed, 'random-model-feeds');
  const g = modelGeometry(config);
  const [rows, cols] = config.grid.size;
  const feeds: Record<string, tf.Tensor> = {};
  if (modality !== 'lidar') {
    const [h, w] = config.image;
    const pixels = new Float32Array(batch * config.cameras * h * w * 3).map(() => rng.next());
    feeds[MODEL_INPUTS.images] = tf.tensor(pixels, [batch * config.cameras, h, w, 3]);
    const index = new Int32Array(batch * g.frustumPoints).map(() =>
      rng.next() < cameraDropout ? -1 : rng.int(rows * cols),
    );
    feeds[MODEL_INPUTS.camBevIndex] = tf.tensor(index, [batch, g.frustumPoints], 'int32');
  }
  if (modality !== 'camera') {
    const { maxPillars: p, maxPoints: m, pointFeatures: f } = config.lidar;
    const features = new Float32Array(batch * p * m * f);
    const mask = new Float32Array(batch * p * m);
    const coords = new Int32Array(batch * p * 2).fill(-1);
    for (let s = 0; s < batch; s++) {
      const cells = rng.shuffle(Array.from({ length: rows * cols }, (_, i) => i));
      for (let k = 0; k < p && k < cells.length; k++) {
        if (rng.next() < pillarPadding) continue;
        const slot = s * p + k;
        coords[slot * 2] = Math.floor(cells[k] / cols);
        coords[slot * 2 + 1] = cells[k] % cols;
        const points = 1 + rng.int(m);
        for (let j = 0; j < points; j++) {
          mask[slot * m + j] = 1;
          for (let c = 0; c < f; c++) features[(slot * m + j) * f + c] = 2 * rng.next() - 1;
        }
      }
    }
    feeds[MODEL_INPUTS.pillarFeatures] = tf.tensor(features, [batch, p, m, f]);
    feeds[MODEL_INPUTS.pillarMask] = tf.tensor(mask, [batch, p, m]);
    feeds[MODEL_INPUTS.pillarCoords] = tf.tensor(coords, [batch, p, 2], 'int32');
  }
  return feeds;
}
