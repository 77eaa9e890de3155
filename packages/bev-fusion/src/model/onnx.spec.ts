import { ParamStore } from '@bevzip/ir';
import { onnxParity } from '@bevzip/ir/testing';
import type * as tf from '@tensorflow/tfjs';
import { buildBevFusion } from './build';
import { MICRO_CONFIG, TINY_CONFIG, type BevFusionConfig, type ModelModality } from './config';
import { randomModelFeeds } from './random-feeds';

async function parity(config: BevFusionConfig, modality: ModelModality, batch: number): Promise<number> {
  const graph = buildBevFusion(config, modality);
  const params = ParamStore.init(graph, 31);
  const feeds = randomModelFeeds(config, modality, { batch, seed: 32 });
  try {
    return await onnxParity(graph, params, feeds);
  } finally {
    params.dispose();
    Object.values(feeds).forEach((t: tf.Tensor) => t.dispose());
  }
}

describe('BEVFusion ONNX export', () => {
  it.each(['fusion', 'camera', 'lidar'] as ModelModality[])(
    'runs the micro %s model in onnxruntime within 1e-4 of the interpreter (batch 2)',
    async (modality) => {
      expect(await parity(MICRO_CONFIG, modality, 2)).toBeLessThanOrEqual(1e-4);
    },
  );

  it('runs the tiny fusion model in onnxruntime within 1e-4 of the interpreter', async () => {
    expect(await parity(TINY_CONFIG, 'fusion', 1)).toBeLessThanOrEqual(1e-4);
  });
});
