import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { CHECKPOINT_FILES, checkpointPath, latestCheckpoint, readCheckpoint, writeCheckpoint } from '../checkpoint';
import { BevzipError, ERROR_CODES } from '../errors';
import { processAlive } from '../process-alive';
import type { CheckpointStore, RestoredCheckpoint } from './services';

const FEATURE = 'feature:';
const STEP_DIR = /^step-(\d+)$/;
/** `<checkpoint>.tmp-<pid>` (being written) and `<checkpoint>.old-<pid>` (the version being replaced). */
const LEFTOVER = /^(.+)\.(tmp|old)-(\d+)$/;

/** The `step-N` folders under `root`, with their step and whether their manifest was written (the write's last act). */
function stepFolders(root: string): { dir: string; globalStep: number; complete: boolean }[] {
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).flatMap((name) => {
    const m = STEP_DIR.exec(name);
    if (!m) return [];
    const dir = path.join(root, name);
    return [{ dir, globalStep: Number(m[1]), complete: fs.existsSync(path.join(dir, CHECKPOINT_FILES.manifest)) }];
  });
}

/**
 * Checkpoints as `root/step-N` directories in the on-disk format of `@bevzip/ir`'s checkpoint
 * module. Feature masks share the masks file under a `feature:` prefix.
 */
export const fileCheckpointStore: CheckpointStore = {
  write(root, globalStep, data) {
    const dir = checkpointPath(root, globalStep);
    const masks = new Map<string, tf.Tensor>(data.masks?.params);
    for (const [name, m] of data.masks?.features ?? []) masks.set(FEATURE + name, m);
    writeCheckpoint(dir, { graph: data.graph, params: data.params, optimizer: data.optimizer, masks, seed: data.seed, position: data.position, extra: data.extra, extraTensors: data.extraTensors });
    return dir;
  },
  read(dir): RestoredCheckpoint {
    const c = readCheckpoint(dir);
    if (!c.position) {
      c.params.dispose();
      for (const m of [...(c.masks?.values() ?? []), ...(c.extraTensors?.values() ?? [])]) m.dispose();
      throw new BevzipError(ERROR_CODES.CHECKPOINT, `checkpoint '${dir}' has no pipeline position, so a run cannot resume from it`);
    }
    const params = new Map<string, tf.Tensor>();
    const features = new Map<string, tf.Tensor>();
    for (const [name, m] of c.masks ?? []) (name.startsWith(FEATURE) ? features : params).set(name.startsWith(FEATURE) ? name.slice(FEATURE.length) : name, m);
    return { graph: c.graph, params: c.params, optimizerState: c.optimizer, masks: { params, features }, position: c.position, extra: c.extra, extraTensors: c.extraTensors };
  },
  latest: latestCheckpoint,
  list(root) {
    return stepFolders(root).flatMap(({ dir, globalStep, complete }) => (complete ? [{ dir, globalStep }] : []));
  },
  remove(dir) {
    fs.rmSync(dir, { recursive: true, force: true });
  },
  recover(root) {
    if (!fs.existsSync(root)) return [];
    const lines: string[] = [];
    for (const name of fs.readdirSync(root).sort()) {
      const m = LEFTOVER.exec(name);
      if (!m || (Number(m[3]) !== process.pid && processAlive(Number(m[3])))) continue;
      const dir = path.join(root, name);
      const target = path.join(root, m[1]);
      if (m[2] === 'old' && !fs.existsSync(target)) {
        fs.renameSync(dir, target);
        lines.push(`put back ${m[1]} from ${name}, left by a write that was interrupted`);
      } else {
        fs.rmSync(dir, { recursive: true, force: true });
        lines.push(`removed ${name}, left by a ${m[2] === 'tmp' ? 'checkpoint write' : 'replaced checkpoint'} that was interrupted`);
      }
    }
    return lines;
  },
  incomplete(root) {
    return stepFolders(root).flatMap(({ dir, complete }) => (complete ? [] : [dir]));
  },
};
