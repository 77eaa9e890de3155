import { featureDistillation, magnitudePruning, TINY_FEATURE } from '@bevzip/ir/testing';
import { conformance } from './conformance';
import { PluginTester } from './plugin-tester';

const tester = new PluginTester();

tester.run('magnitude-pruning', magnitudePruning, {
  valid: [
    { name: 'prunes half of every weight', options: { sparsity: 0.5 }, expect: { maskedFraction: 0.5 } },
    { name: 'prunes only the head when scoped', options: { sparsity: 0.5, scope: 'head' }, expect: { maskedFraction: 0.5 } },
    { name: 'sparsity 0 masks nothing', options: { sparsity: 0 }, expect: { maskedFraction: 0, shapes: { 'head.conv2': [-1, 6, 6, 2], 'camera.backbone.feature': [-1, 6, 6, 4] } } },
  ],
  invalid: [
    { name: 'sparsity above 1', options: { sparsity: 1.5 }, expect: { error: /plugin 'magnitude-pruning': invalid options: option 'sparsity'/ } },
    { name: 'sparsity missing', options: {}, expect: { error: /option 'sparsity'/ } },
  ],
});

tester.run('feature-distillation', featureDistillation, {
  valid: [{ name: 'distils the backbone feature', options: { tap: TINY_FEATURE } }],
  invalid: [
    { name: 'tap the graph lacks', options: { tap: 'nowhere' }, expect: { error: /plugin 'feature-distillation' requires teacher tap 'nowhere', which graph 'tiny' does not define/ } },
    { name: 'negative weight', options: { tap: TINY_FEATURE, weight: -1 }, expect: { error: /option 'weight'/ } },
  ],
});

conformance('magnitude-pruning', magnitudePruning, { options: { sparsity: 0.3 }, badOptions: [{ sparsity: -0.1 }, { sparsity: '0.5' }], binaryMasks: true });
conformance('feature-distillation', featureDistillation, { options: { tap: TINY_FEATURE, weight: 0.5 }, badOptions: [{ tap: '' }, { weight: 1 }] });
