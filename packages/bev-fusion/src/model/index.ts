export { buildBevFusion, MODEL_INPUTS, MODEL_OUTPUTS } from './build';
export type { BevFusionMeta } from './build';
export {
  BEV_FUSION_CONFIGS,
  MAP_HEAD_CLASSES,
  MICRO_CONFIG,
  MODALITIES,
  SMALL_CONFIG,
  TINY_CONFIG,
  modelGeometry,
} from './config';
export type { BevFusionConfig, ModelGeometry, ModelModality } from './config';
export { describeModel, formatModelDescription } from './describe';
export type { ModelDescription, StageCost } from './describe';
export { batchNorm, convBias, convBnRelu, torchPads } from './layers';
export type { BnOptions, ConvOptions } from './layers';
export { randomModelFeeds } from './random-feeds';
export type { RandomFeedOptions } from './random-feeds';
export { COST_ROWS, STAGE_SELECTORS, STAGE_TAGS } from './selectors';
export type { StageSelectorName } from './selectors';
