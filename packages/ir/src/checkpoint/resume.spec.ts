import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { GraphBuilder } from '../builder';
import type { Graph } from '../graph';
import { run } from '../interpreter';
import { ParamStore } from '../params';
import { Rng } from '../rng';
import { clipGradNorm } from '../train/clip';
import { createOptimizer, type Optimizer, type OptimizerConfig } from '../train/optimizer';
import { learningRate, type ScheduleConfig } from '../train/schedule';
import { checkpointPath, latestCheckpoint, readCheckpoint, writeCheckpoint } from './checkpoint';

function convNet(): Graph {
  const b = new GraphBuilder('resume');
  const x = b.input('x', [-1, 5, 5, 2]);
  const y = b.scoped('camera.backbone', { modality: 'camera', stage: 'backbone' }, () =>
    b.op('conv2d', [x, b.param('conv.weight', [3, 3, 2, 3]), b.param('conv.bias', [3], { role: 'bias', init: { kind: 'normal', std: 0.1 } })], { pad: 'same' }),
  );
  b.output(y);
  return b.build();
}

const OPT: OptimizerConfig = { kind: 'adamw', lr: 0.05, weightDecay: 0.1, groups: [{ selector: (n) => n.endsWith('bias'), lr: 2, weightDecay: 0 }] };
const SCHEDULE: ScheduleConfig = { kind: 'cosine', totalSteps: 6, warmupSteps: 2 };

/** One training step on a batch drawn from `rng`, with a mask, clipping and the schedule. */
function trainStep(graph: Graph, params: ParamStore, opt: Optimizer, rng: Rng, mask: tf.Tensor, step: number): void {
  const data = Float32Array.from({ length: 2 * 5 * 5 * 2 }, () => 2 * rng.next() - 1);
  const x = tf.tensor(data, [2, 5, 5, 2]);
  const masks = new Map([['camera.backbone.conv.weight', mask]]);
  const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(run(graph, params, { x }, { training: true, masks }).outputs[graph.outputs[0]], 0.5))) as tf.Scalar);
  const paramOf = new Map(params.names().map((n) => [params.get(n).name, n]));
  const clipped = clipGradNorm(new Map(Object.entries(grads).map(([k, g]) => [paramOf.get(k)!, g])), 0.5);
  opt.step(clipped.grads, params, learningRate(SCHEDULE, OPT.lr, step));
  [x, value, ...Object.values(grads), ...clipped.grads.values()].forEach((t) => t.dispose());
}

describe('resuming from a checkpoint', () => {
  it('reaches weights and optimizer state bit-equal to an uninterrupted run', () => {
    const graph = convNet();
    const mask = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([3, 3, 2, 3], -1, 1, 'float32', 3), -0.3), 'float32'));
    const names = (p: ParamStore) => p.names().map((n) => Array.from(p.get(n).dataSync()));

    const straight = ParamStore.init(graph, 21);
    const o1 = createOptimizer(OPT, graph);
    const r1 = new Rng(5);
    for (let s = 0; s < 5; s++) trainStep(graph, straight, o1, r1, mask, s);

    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-resume-'));
    try {
      const first = ParamStore.init(graph, 21);
      const o2 = createOptimizer(OPT, graph);
      const r2 = new Rng(5);
      for (let s = 0; s < 3; s++) {
        trainStep(graph, first, o2, r2, mask, s);
        writeCheckpoint(checkpointPath(root, s + 1), { graph, params: first, optimizer: o2.getState(), masks: new Map([['camera.backbone.conv.weight', mask]]), rng: r2.getState(), seed: 21, position: { stage: 0, step: s + 1 } });
      }
      o2.dispose();
      first.dispose();

      const ck = readCheckpoint(latestCheckpoint(root)!);
      expect(ck.position).toEqual({ stage: 0, step: 3 });
      const o3 = createOptimizer(OPT, ck.graph);
      o3.setState(ck.optimizer!);
      const r3 = new Rng(ck.seed!);
      r3.setState(ck.rng!);
      const restoredMask = ck.masks!.get('camera.backbone.conv.weight')!;
      for (let s = ck.position!.step; s < 5; s++) trainStep(ck.graph, ck.params, o3, r3, restoredMask, s);

      expect(names(ck.params)).toEqual(names(straight));
      expect(o3.getState()).toEqual(o1.getState());
      const init = ParamStore.init(graph, 21);
      names(init).forEach((v, i) => expect(names(straight)[i]).not.toEqual(v));
      init.dispose();
      o3.dispose();
      ck.params.dispose();
      ck.masks!.forEach((t) => t.dispose());
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
    o1.dispose();
    straight.dispose();
    mask.dispose();
  });
});
