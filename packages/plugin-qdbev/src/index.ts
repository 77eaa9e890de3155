import { PLUGIN } from '@bevzip/ir';
import type { DependencyContainer } from 'tsyringe';
import { qdbevDistill, type QdbevDistillOptions } from './vgd-plugin';
import { qdbevQuantize, type QdbevQuantizeOptions } from './quantize-plugin';

export { qdbevQuantize, quantizeOptions, partsForStage, progressiveSchedule } from './quantize-plugin';
export type { QdbevQuantizeOptions } from './quantize-plugin';
export { qdbevDistill, distillOptions } from './vgd-plugin';
export type { QdbevDistillOptions } from './vgd-plugin';
export { fakeQuant, fakeQuantPerChannel, channelAbsMax, intRange, quantScale, quantizeCodes, roundHalfEven } from './quantizer';
export { DEFAULT_PARTS, weightSlotOf, enabledSubset, nonNegativeValues, partOf, planQuantization } from './plan';
export type { EdgeLayerPolicy, PlanOptions, QuantActivation, QuantLayer, QuantPlan } from './plan';
export { RangeTracker, absPercentile, activationScale, quantTransforms } from './calibration';
export type { QuantState, RangeMode } from './calibration';
export { layerMacs, quantCost } from './cost';
export type { QuantCostRow } from './cost';
export { cameraViewMask } from './view-mask';
export type { ViewMaskOptions } from './view-mask';
export { bevDistillLoss, imageDistillLoss, vgdLoss } from './vgd-loss';
export type { SoftmaxAxis, VgdLossOptions } from './vgd-loss';
export { exportQdq, qdqRewrite, quantizeWeightHost, weightStorageFor } from './export-qdq';
export type { QdqExportOptions, QdqWeightReport, WeightStorage } from './export-qdq';

/** Options of {@link register}: the quantizer's, and the distiller's when it is wanted. */
export interface QdbevRegisterOptions {
  quantize?: QdbevQuantizeOptions;
  /** Registers view-guided distillation too, with these options (it needs a teacher in the stages it is active in). */
  distill?: QdbevDistillOptions;
}

/**
 * Registers the QD-BEV plugins under `PLUGIN`: the quantizer always, the view-guided distiller
 * when `distill` options are given. Nothing is registered on import.
 */
export function register(container: DependencyContainer, options: QdbevRegisterOptions = {}): void {
  container.register(PLUGIN, { useValue: qdbevQuantize(options.quantize, { optionsPath: ['quantize'] }) });
  if (options.distill) container.register(PLUGIN, { useValue: qdbevDistill(options.distill, { optionsPath: ['distill'] }) });
}
