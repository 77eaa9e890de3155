import * as tf from '@tensorflow/tfjs';
import { ParamStore, run } from '@bevzip/ir';
import { generateScene } from '../synthetic/scene';
import { disposeBatch, makeBatch } from '../task/batch';
import { TINY_TASK_CONFIG } from '../task/config';
import { taskLoss } from '../task/losses';
import { buildBevFusion } from './build';
import { MICRO_CONFIG, TINY_CONFIG } from './config';
import { taskConfigFor } from './task-config';

describe('taskConfigFor', () => {
  it('gives the task its tiny configuration for the tiny model', () => {
    expect(taskConfigFor(TINY_CONFIG, 'fusion')).toEqual(TINY_TASK_CONFIG);
    expect(taskConfigFor(TINY_CONFIG, 'camera').modality).toBe('camera');
  });

  it('feeds a synthetic micro batch through the micro model into a finite loss with gradients on both branches', () => {
    const cfg = taskConfigFor(MICRO_CONFIG, 'fusion');
    const frames = generateScene({ seed: 0, sceneIndex: 0, frames: 1, mapGrid: MICRO_CONFIG.grid });
    const batch = makeBatch(frames, cfg);
    const graph = buildBevFusion(MICRO_CONFIG, 'fusion');
    const params = ParamStore.init(graph, 41);
    const names = [
      'encoders.camera.backbone.c1.conv.weight',
      'encoders.lidar.backbone.pfn.linear.weight',
      'heads.map.classifier.conv.bias',
    ];
    const loss = (...ws: tf.Tensor[]) => {
      const lookup = { get: (n: string) => (names.includes(n) ? ws[names.indexOf(n)] : params.get(n)) };
      const { outputs } = run(graph, lookup, batch.feeds, { training: true });
      const terms = taskLoss(
        { heatmap: outputs.heatmap, reg: outputs.reg, map: outputs.map },
        batch.targets,
        cfg,
      );
      return terms.total;
    };
    const { value, grads } = tf.tidy(() => {
      const r = tf.valueAndGrads(loss)(names.map((n) => params.get(n)));
      return { value: r.value.dataSync()[0], grads: r.grads.map((g) => tf.norm(g).dataSync()[0]) };
    });
    expect(Number.isFinite(value) && value > 0).toBe(true);
    grads.forEach((g, i) => expect([names[i], Number.isFinite(g) && g > 0]).toEqual([names[i], true]));
    disposeBatch(batch);
    params.dispose();
  });
});
