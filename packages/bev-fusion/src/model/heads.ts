import type { GraphBuilder } from '@bevzip/ir';
import { REG_CHANNELS } from '../task/config';
import type { BevFusionConfig } from './config';
import { convBias, convBnRelu } from './layers';
import { STAGE_TAGS } from './selectors';

/**
 * CenterHead with one task (`heads.object`): shared 3×3 conv-BN-ReLU, then 3×3 predictors for the
 * heat-map logits (K classes, bias initialised to `heatmapBias`) and the 10 regression channels.
 */
export function objectHead(
  b: GraphBuilder,
  config: BevFusionConfig,
  bev: string,
): { heatmap: string; reg: string } {
  return b.scoped('heads.object', STAGE_TAGS.head, () => {
    const shared = convBnRelu(b, 'shared_conv', bev, config.head.channels, config.bn);
    const heatmap = convBias(b, 'heatmap', shared, config.head.classes.length, {
      biasInit: { kind: 'constant', value: config.head.heatmapBias },
    });
    const reg = convBias(b, 'reg', shared, REG_CHANNELS.length);
    return { heatmap, reg };
  });
}

/**
 * Map head (`heads.map`): 3×3 conv-BN-ReLU at the decoder's stride, bilinear ×2 back to the BEV grid,
 * 1×1 classifier to one logit per map class.
 */
export function mapHead(b: GraphBuilder, config: BevFusionConfig, bev: string): string {
  return b.scoped('heads.map', STAGE_TAGS.head, () => {
    const x = convBnRelu(b, 'conv', bev, config.map.channels, config.bn);
    const up = b.op('resize_bilinear', [x], { scale: 2 }, { name: 'upsample' });
    return convBias(b, 'classifier', up, config.map.classes.length, { kernel: 1 });
  });
}
