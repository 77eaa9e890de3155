import type { GraphBuilder } from '@bevzip/ir';
import { modelGeometry, type BevFusionConfig } from './config';
import { convBias, convBnRelu } from './layers';
import { STAGE_TAGS } from './selectors';

/**
 * Camera backbone c1..c6 (3×3 conv-BN-ReLU, stride 2 at c1, c3, c5). Returns the stride-4 (c4) and
 * stride-8 (c6) maps, which the neck merges.
 */
function cameraBackbone(b: GraphBuilder, config: BevFusionConfig, images: string): [string, string] {
  return b.scoped('backbone', STAGE_TAGS.cameraBackbone, () => {
    let x = images;
    const taps: string[] = [];
    config.camera.backbone.forEach((cout, i) => {
      x = convBnRelu(b, `c${i + 1}`, x, cout, config.bn, { stride: i % 2 === 0 ? 2 : 1 });
      taps.push(x);
    });
    return [taps[3], taps[5]];
  });
}

/**
 * GeneralizedLSSFPN reduced to one level: bilinear ×2 of the stride-8 map, concat with the stride-4
 * map, 1×1 then 3×3 conv-BN-ReLU.
 */
function cameraNeck(b: GraphBuilder, config: BevFusionConfig, stride4: string, stride8: string): string {
  return b.scoped('neck', STAGE_TAGS.imageNeck, () => {
    const up = b.op('resize_bilinear', [stride8], { scale: 2 }, { name: 'upsample' });
    const merged = b.op('concat', [stride4, up], { axis: -1 }, { name: 'concat' });
    const lateral = convBnRelu(b, 'lateral', merged, config.camera.neck, config.bn, { kernel: 1 });
    return convBnRelu(b, 'out', lateral, config.camera.neck, config.bn);
  });
}

/**
 * LSS view transform: a 1×1 depth net to D depth logits + C context channels, softmax over depth,
 * the outer product α_d·f per pixel, then `bev_pool` into the grid by the host-computed
 * `cam_bev_index` (frustum points ordered camera, row, column, depth bin; −1 = outside the grid).
 */
function viewTransform(
  b: GraphBuilder,
  config: BevFusionConfig,
  features: string,
  cellIndex: string,
): string {
  const g = modelGeometry(config);
  const c = config.camera.context;
  return b.scoped('vtransform', STAGE_TAGS.viewTransform, () => {
    const depthNet = convBias(b, 'depthnet', features, g.depthBins + c, { kernel: 1 });
    const [logits, context] = b.opMulti(
      'split',
      [depthNet],
      { axis: -1, sizes: [g.depthBins, c] },
      { name: 'split', outputs: 2 },
    );
    const depth = b.op('softmax', [logits], { axis: -1 }, { name: 'depth' });
    const alpha = b.op(
      'reshape',
      [depth],
      { shape: [-1, g.featH, g.featW, g.depthBins, 1] },
      { name: 'depth_5d' },
    );
    const feat = b.op('reshape', [context], { shape: [-1, g.featH, g.featW, 1, c] }, { name: 'context_5d' });
    const lifted = b.op('mul', [alpha, feat], {}, { name: 'lift' });
    const perSample = b.op('reshape', [lifted], { shape: [-1, g.frustumPoints, c] }, { name: 'frustum' });
    const [rows, cols] = config.grid.size;
    return b.op('bev_pool', [perSample, cellIndex], { gridH: rows, gridW: cols }, { name: 'bev_pool' });
  });
}

/**
 * The camera encoder (`encoders.camera.*`): images [B·N_cam, H, W, 3] (RGB/255 as fed; the BN after
 * c1 absorbs any offset and scale, so there is no separate normalisation) → BEV [B, X, Y, C].
 */
export function cameraEncoder(
  b: GraphBuilder,
  config: BevFusionConfig,
  images: string,
  cellIndex: string,
): string {
  return b.scoped('encoders.camera', { modality: 'camera' }, () => {
    const [s4, s8] = cameraBackbone(b, config, images);
    const neck = cameraNeck(b, config, s4, s8);
    return viewTransform(b, config, neck, cellIndex);
  });
}
