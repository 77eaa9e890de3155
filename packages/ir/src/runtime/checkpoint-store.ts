import type * as tf from '@tensorflow/tfjs';
import { checkpointPath, latestCheckpoint, readCheckpoint, writeCheckpoint } from '../checkpoint';
import { BevzipError, ERROR_CODES } from '../errors';
import type { CheckpointStore, RestoredCheckpoint } from './services';

const FEATURE = 'feature:';

/**
 * Checkpoints as `root/step-N` directories in the on-disk format of `@bevzip/ir`'s checkpoint
 * module. Feature masks share the masks file under a `feature:` prefix.
 */
export const fileCheckpointStore: CheckpointStore = {
  write(root, globalStep, data) {
    const dir = checkpointPath(root, globalStep);
    const masks = new Map<string, tf.Tensor>(data.masks?.params);
    for (const [name, m] of data.masks?.features ?? []) masks.set(FEATURE + name, m);
    writeCheckpoint(dir, { graph: data.graph, params: data.params, optimizer: data.optimizer, masks, seed: data.seed, position: data.position, extra: data.extra });
    return dir;
  },
  read(dir): RestoredCheckpoint {
    const c = readCheckpoint(dir);
    if (!c.position) {
      c.params.dispose();
      for (const m of c.masks?.values() ?? []) m.dispose();
      throw new BevzipError(ERROR_CODES.CHECKPOINT, `checkpoint '${dir}' has no pipeline position, so a run cannot resume from it`);
    }
    const params = new Map<string, tf.Tensor>();
    const features = new Map<string, tf.Tensor>();
    for (const [name, m] of c.masks ?? []) (name.startsWith(FEATURE) ? features : params).set(name.startsWith(FEATURE) ? name.slice(FEATURE.length) : name, m);
    return { graph: c.graph, params: c.params, optimizerState: c.optimizer, masks: { params, features }, position: c.position, extra: c.extra };
  },
  latest: latestCheckpoint,
};
