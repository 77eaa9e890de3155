export { createOptimizer, optimizerConfigSchema } from './optimizer';
export type { Optimizer, OptimizerConfig, OptimizerKind, OptimizerState, ParamGroup, ParamSlots } from './optimizer';
export { resolveParamSettings, defaultWeightDecay } from './param-groups';
export type { ParamSettings } from './param-groups';
export { SLOT_NAMES } from './update-rules';
export { learningRate, scheduleConfigSchema } from './schedule';
export type { ScheduleConfig } from './schedule';
export { clipGradNorm } from './clip';
