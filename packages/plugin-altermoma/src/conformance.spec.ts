import { PluginTester, conformance } from '@bevzip/plugin-tester';
import { TINY_OUTPUT } from '@bevzip/ir/testing';
import { alterMoma, headDistill, impPrune, magnitudePrune, snipPrune, synflowPrune } from './plugin';
import { twoBranchGraph } from './testing-fixtures/two-branch';

const fast = { scoringBatches: 1, reactivationSteps: 2 };

conformance('altermoma', alterMoma, {
  options: { sparsity: 0.6, ...fast },
  badOptions: [
    { sparsity: 1.5 },
    { sparsity: 0.5, alpha: -1 },
    { reactivationSteps: 0 },
    { groups: { camera: { modality: 'radar' } } },
    { unknown: 1 },
  ],
  binaryMasks: true,
});
conformance('altermoma (structured)', alterMoma, {
  options: { sparsity: 0.5, structured: true, ...fast },
  badOptions: [{ minChannels: 0 }],
  binaryMasks: true,
});
conformance('altermoma (two branches)', alterMoma, {
  options: { sparsity: 0.5, ...fast },
  badOptions: [{ reactivationOptimizer: 'rmsprop' }],
  binaryMasks: true,
  graph: twoBranchGraph(),
});
conformance('prune-magnitude', magnitudePrune, {
  options: { sparsity: 0.5 },
  badOptions: [{ sparsity: -0.1 }],
  binaryMasks: true,
});
conformance('prune-snip', snipPrune, {
  options: { sparsity: 0.5, scoringBatches: 1 },
  badOptions: [{ scoringBatches: 0 }],
  binaryMasks: true,
});
conformance('prune-imp', impPrune, {
  options: { sparsity: 0.5, rounds: 1 },
  badOptions: [{ rounds: 0 }, { rewind: 'late' }],
  binaryMasks: true,
});
conformance('prune-imp (rewinding, structured)', impPrune, {
  options: { sparsity: 0.5, rounds: 1, rewind: 'start', structured: true },
  badOptions: [{ minChannels: 0 }],
  binaryMasks: true,
});
conformance('prune-kd', headDistill, {
  options: { outputs: [TINY_OUTPUT], weight: 0.5 },
  badOptions: [{ outputs: [] }, { weight: -1 }, { gradientShare: 0 }],
});
conformance('prune-synflow', synflowPrune, {
  options: { sparsity: 0.5, iterations: 3 },
  badOptions: [{ iterations: 0 }],
  binaryMasks: true,
});

// The tiny conv graph has 3·3·2·4 + 3·3·4·2 = 144 prunable kernel weights (biases and norms stay).
new PluginTester().run('altermoma', alterMoma, {
  valid: [
    {
      name: 'prunes exactly 80% of the kernel weights',
      options: { sparsity: 0.8, ...fast },
      expect: { maskedFraction: Math.round(0.8 * 144) / 144 },
    },
    {
      name: 'prunes exactly 90% with the LiDAR-masked stage skipped on a camera-only graph',
      options: { sparsity: 0.9, ...fast },
      expect: { maskedFraction: Math.round(0.9 * 144) / 144 },
    },
    {
      name: 'prunes 85% of all weights of the two-branch toy',
      graph: twoBranchGraph(),
      options: { sparsity: 0.85, ...fast },
      expect: { maskedFraction: Math.round(0.85 * 18) / 18 },
    },
    { name: 'sparsity 0 keeps everything', options: { sparsity: 0, ...fast }, expect: { maskedFraction: 0 } },
    {
      name: 'biases and norms join the prunable set on request',
      options: { sparsity: 0.5, prunable: { biases: true, norms: true }, ...fast },
      expect: { maskedFraction: Math.round(0.5 * (144 + 4 + 2 + 8)) / (144 + 4 + 2 + 8) },
    },
  ],
  invalid: [
    {
      name: 'sparsity above 1',
      options: { sparsity: 2 },
      expect: { error: /plugin 'altermoma': invalid options: option 'sparsity'/ },
    },
    {
      name: 'groups that match no param',
      options: { groups: { camera: { scope: 'nowhere' }, fusion: { scope: 'nowhere' } } },
      expect: { error: /has no prunable param in the groups/ },
    },
  ],
});

new PluginTester().run('prune-synflow', synflowPrune, {
  valid: [
    {
      name: 'iterative rounds still end at exactly 80%',
      options: { sparsity: 0.8, iterations: 4 },
      expect: { maskedFraction: Math.round(0.8 * 144) / 144 },
    },
  ],
  invalid: [{ name: 'no rounds', options: { iterations: 0 }, expect: { error: /option 'iterations'/ } }],
});
