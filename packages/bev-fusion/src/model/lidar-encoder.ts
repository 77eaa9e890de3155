import type { GraphBuilder } from '@bevzip/ir';
import type { BevFusionConfig } from './config';
import { batchNorm } from './layers';
import { STAGE_TAGS } from './selectors';

/** Names of the LiDAR graph inputs. */
export interface LidarInputs {
  /** [B, P, M, F] point features of each pillar. */
  features: string;
  /** [B, P, M], 1 for a real point, 0 for padding. */
  mask: string;
  /** int32 [B, P, 2] (row i ↔ x, column j ↔ y); −1 for padding pillars. */
  coords: string;
}

/**
 * The LiDAR encoder (`encoders.lidar.backbone`): a PointPillars PFN (Linear F→C without bias, BN,
 * ReLU per point, then the max over each pillar's real points) and the scatter of pillars onto the
 * BEV grid → [B, X, Y, C]. As in PointPillars, batch-norm statistics include the padded points, which
 * the host fills with zeros; the mask keeps them out of the max.
 */
export function lidarEncoder(b: GraphBuilder, config: BevFusionConfig, inputs: LidarInputs): string {
  return b.scoped('encoders.lidar.backbone', STAGE_TAGS.lidarBackbone, () => {
    const pointFeatures = b.scoped('pfn', {}, () => {
      const weight = b.param('linear.weight', [config.lidar.pointFeatures, config.lidar.channels]);
      const linear = b.op('dense', [inputs.features, weight], {}, { name: 'linear' });
      return b.op('relu', [batchNorm(b, linear, config.bn)], {}, { name: 'relu' });
    });
    const pillars = b.op('pillar_max', [pointFeatures, inputs.mask], {}, { name: 'pillar_max' });
    const [rows, cols] = config.grid.size;
    return b.op(
      'pillar_scatter',
      [pillars, inputs.coords],
      { gridH: rows, gridW: cols },
      { name: 'scatter' },
    );
  });
}
