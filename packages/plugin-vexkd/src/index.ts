import { PLUGIN } from '@bevzip/ir';
import type { DependencyContainer } from 'tsyringe';
import { vexkdTeacher, type VexkdTeacherOptions } from './mgfm';

export { deformableAttention, offsetPattern, referencePoints } from './deform-attn';
export type { ConstantParam, DeformAttnSpec, SamplingMode } from './deform-attn';
export { buildMgfm, mgfmOptions, MGFM_SCOPE, MGFM_VALUES, setConstants, swapFuserForMgfm, teacherOptions, vexkdTeacher } from './mgfm';
export type { MgfmOptions, VexkdTeacherOptions } from './mgfm';
export { MaskGenerator, maskNetGraph, maskNetOptions } from './mask-generator';
export type { MaskNetOptions, MaskNetShape, MasksOut } from './mask-generator';

/** Options of {@link register}. */
export interface VexkdRegisterOptions {
  /** Registers the teacher builder (fuser → modality-general fusion module) with these options. */
  teacher?: VexkdTeacherOptions;
}

/** Registers the VeXKD teacher builder under `PLUGIN`. Nothing is registered on import. */
export function register(container: DependencyContainer, options: VexkdRegisterOptions = {}): void {
  container.register(PLUGIN, { useValue: vexkdTeacher(options.teacher) });
}
export { vexkd, vexkdOptions, checkModels } from './distill';
export type { VexkdInput, VexkdOptions } from './distill';
export { attentionMap, diceDiversity, maskedAtLoss, maskedSum, matchSize } from './losses';
export { teacherHead } from './teacher-head';
