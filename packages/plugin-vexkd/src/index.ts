import { PLUGIN } from '@bevzip/ir';
import type { DependencyContainer } from 'tsyringe';
import { vexkd, type VexkdInput } from './distill';
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
  /** Registers the masked feature distiller (mask training, then distillation into the student). */
  distill?: VexkdInput;
}

/**
 * Registers under `PLUGIN` the VeXKD teacher builder (when `teacher` is given, or nothing else is)
 * and the masked feature distiller (when `distill` is given). Nothing is registered on import.
 */
export function register(container: DependencyContainer, options: VexkdRegisterOptions = {}): void {
  if (options.teacher !== undefined || options.distill === undefined) container.register(PLUGIN, { useValue: vexkdTeacher(options.teacher, { optionsPath: ['teacher'] }) });
  if (options.distill !== undefined) container.register(PLUGIN, { useValue: vexkd(options.distill, { optionsPath: ['distill'] }) });
}
export { vexkd, vexkdOptions, checkModels } from './distill';
export type { VexkdInput, VexkdOptions } from './distill';
export { attentionMap, diceDiversity, maskedAtLoss, maskedSum, matchSize } from './losses';
export { teacherHead } from './teacher-head';
