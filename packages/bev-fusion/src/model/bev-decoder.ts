import type { GraphBuilder } from '@bevzip/ir';
import type { BevFusionConfig } from './config';
import { convBnRelu } from './layers';
import { STAGE_TAGS } from './selectors';

/**
 * ConvFuser (`fuser`): concat of the BEV maps in [camera, lidar] order → 3×3 conv-BN-ReLU. With one
 * branch the conv reads that branch alone (32 input channels in tiny instead of 64), so the fuser
 * keeps its place and output width in single-modality graphs.
 */
export function fuser(b: GraphBuilder, config: BevFusionConfig, branches: string[]): string {
  return b.scoped('fuser', STAGE_TAGS.fuser, () => {
    const x =
      branches.length === 1 ? branches[0] : b.op('concat', branches, { axis: -1 }, { name: 'concat' });
    return convBnRelu(b, '', x, config.fuser, config.bn);
  });
}

/**
 * SECOND-tiny (`decoder.backbone`): two stages, each a 3×3 stride-2 conv and a 3×3 conv (all
 * conv-BN-ReLU). Returns both stage outputs (BEV strides 2 and 4).
 */
function secondBackbone(b: GraphBuilder, config: BevFusionConfig, x: string): [string, string] {
  return b.scoped('decoder.backbone', STAGE_TAGS.bevEncoder, () => {
    const outs: string[] = [];
    let y = x;
    config.decoder.stages.forEach((width, s) => {
      y = convBnRelu(b, `blocks.${s}.0`, y, width, config.bn, { stride: 2 });
      y = convBnRelu(b, `blocks.${s}.1`, y, width, config.bn);
      outs.push(y);
    });
    return [outs[0], outs[1]];
  });
}

/**
 * SECONDFPN-tiny (`decoder.neck`): 1×1 conv-BN-ReLU on stage 1; nearest ×2 then 1×1 conv-BN-ReLU on
 * stage 2 (instead of a transposed conv); concat → 2·neck channels at BEV stride 2.
 */
function secondFpn(b: GraphBuilder, config: BevFusionConfig, stage1: string, stage2: string): string {
  return b.scoped('decoder.neck', STAGE_TAGS.bevEncoder, () => {
    const lateral = convBnRelu(b, 'deblocks.0', stage1, config.decoder.neck, config.bn, { kernel: 1 });
    const up = b.op('resize_nearest', [stage2], { scale: 2 }, { name: 'upsample' });
    const coarse = convBnRelu(b, 'deblocks.1', up, config.decoder.neck, config.bn, { kernel: 1 });
    return b.op('concat', [lateral, coarse], { axis: -1 }, { name: 'concat' });
  });
}

/** Fuser output → decoder backbone → neck: the shared BEV feature both heads read. */
export function bevDecoder(b: GraphBuilder, config: BevFusionConfig, fused: string): string {
  const [s1, s2] = secondBackbone(b, config, fused);
  return secondFpn(b, config, s1, s2);
}
