import * as tf from '@tensorflow/tfjs';
import { BevzipError, definePlugin, ERROR_CODES, type SensorGeometry } from '@bevzip/ir';
import { z } from 'zod';
import { vgdLoss } from './vgd-loss';
import { cameraViewMask, type ViewMaskOptions } from './view-mask';

const num = z.number();

/** Options of {@link qdbevDistill}. */
export const distillOptions = z.strictObject({
  /** Image-neck feature [B·N_cam, H, W, C], tapped on teacher and student. */
  imageTap: z.string().min(1).default('encoders.camera.neck.out.relu'),
  /** BEV feature [B, X, Y, C] on the grid of the view mask. */
  bevTap: z.string().min(1).default('fuser.relu'),
  /** τ of the temperature softmax. */
  temperature: z.number().positive().default(1),
  /** Softmax over BEV/image positions per channel (CWD) or over channels per position. */
  axis: z.enum(['spatial', 'channel']).default('spatial'),
  /**
   * λ of the VGD term added to the task loss. Eq. 3–6 make L_vgd a product of two normalised KL
   * terms, a few millionths on a BEVFusion model, so a λ near 1 leaves training unchanged; the
   * paper gives no λ. Ignored when `gradientShare` is set.
   */
  weight: z.number().positive().default(1),
  /**
   * Instead of a fixed λ: the share of the task loss's gradient norm the VGD term should drive. The
   * runtime sets λ at each stage's first step from both gradient norms and keeps it for the stage.
   */
  gradientShare: z.number().positive().max(10).optional(),
  zRange: z.tuple([num, num]).default([-5, 3]),
  pillarPoints: z.number().int().min(1).default(4),
});
export type QdbevDistillOptions = z.input<typeof distillOptions>;

/**
 * The per-sample view masks [B, N_cam, cells] of a batch's sensor geometry. Masks are cached by
 * calibration, so a rig that does not change between frames is projected once.
 */
export function batchViewMask(geometry: SensorGeometry, cells: number, cache: Map<string, Float32Array>, options: ViewMaskOptions): tf.Tensor3D {
  const { grid, cameras } = geometry;
  if (grid.size[0] * grid.size[1] !== cells) {
    throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `view-guided distillation: the batch's BEV grid is ${grid.size[0]}×${grid.size[1]}, but the BEV tap has ${cells} cells`);
  }
  const n = cameras[0]?.length ?? 0;
  const out = new Float32Array(cameras.length * n * cells);
  cameras.forEach((sample, b) => {
    if (sample.length !== n) throw new BevzipError(ERROR_CODES.BAD_FEED, `view-guided distillation: sample ${b} of the batch has ${sample.length} cameras, sample 0 has ${n}`);
    const key = JSON.stringify([sample, grid]);
    let mask = cache.get(key);
    if (!mask) {
      if (cache.size >= 64) cache.clear();
      cache.set(key, (mask = cameraViewMask(sample, grid, options)));
    }
    out.set(mask, b * n * cells);
  });
  return tf.tensor3d(out, [cameras.length, n, cells]);
}

/**
 * QD-BEV view-guided distillation through the `loss` hook: per-camera KL on image-neck features and
 * per-cell KL on BEV features between a frozen float teacher and the (fake-quantized) student, joined
 * by the camera view mask (QD-BEV Eq. 3–6). Needs a teacher in the stages it is active in.
 */
export const qdbevDistill = definePlugin({
  name: 'qdbev-vgd',
  version: '0.1.0',
  apiVersion: '^1.0.0',
  description: 'QD-BEV view-guided distillation from a frozen float teacher',
  options: distillOptions,
  requires: (o) => ({ taps: [o.imageTap, o.bevTap], teacher: { taps: [o.imageTap, o.bevTap] } }),
  hooks: (o) => {
    const masks = new Map<string, Float32Array>();
    let warned = false;
    return {
      loss: (ctx) => {
        const studentBev = ctx.student.taps[o.bevTap];
        const cells = studentBev.shape.length === 4 ? studentBev.shape[1] * studentBev.shape[2] : 1;
        const geometry = ctx.batch.geometry;
        const mask = tf.tidy(() => {
          if (geometry && geometry.cameras.length > 0 && geometry.cameras[0].length > 0) {
            return batchViewMask(geometry, cells, masks, { zRange: o.zRange, pillarPoints: o.pillarPoints });
          }
          const n = typeof ctx.graph.meta?.cameras === 'number' ? ctx.graph.meta.cameras : 1;
          if (!warned) ctx.warn(`the batch carries no camera geometry: the view mask weighs all ${n} camera(s) by 1 on every cell`);
          warned = true;
          return tf.ones([n, cells]) as tf.Tensor2D;
        });
        const value = vgdLoss(
          { teacherImg: ctx.teacher!.taps[o.imageTap], studentImg: ctx.student.taps[o.imageTap], teacherBev: ctx.teacher!.taps[o.bevTap], studentBev },
          mask,
          { temperature: o.temperature, axis: o.axis },
        );
        mask.dispose();
        return { vgd: o.gradientShare !== undefined ? { value, gradientShare: o.gradientShare } : { value, weight: o.weight } };
      },
      finalize: () => masks.clear(),
    };
  },
});
