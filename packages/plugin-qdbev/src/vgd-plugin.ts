import * as tf from '@tensorflow/tfjs';
import { definePlugin, type Graph } from '@bevzip/ir';
import { z } from 'zod';
import { vgdLoss } from './vgd-loss';
import { cameraViewMask, type MaskCamera, type MaskGrid } from './view-mask';

const num = z.number();
const camera = z.object({
  calib: z.object({ translation: z.tuple([num, num, num]), rotation: z.tuple([num, num, num, num]) }),
  intrinsic: z.tuple([num, num, num, num, num, num, num, num, num]),
  width: z.number().positive(),
  height: z.number().positive(),
});
const grid = z.object({ xmin: num, ymin: num, cell: z.number().positive(), size: z.tuple([z.number().int().positive(), z.number().int().positive()]) });

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
  /** λ of the VGD term added to the task loss. */
  weight: z.number().positive().default(1),
  /** Cameras (sensor → ego calibration, intrinsics, image size) in the model's camera order; without them every camera weighs every cell by 1. */
  cameras: z.array(camera).min(1).optional(),
  /** BEV grid of `bevTap`; default the graph's `meta.grid`. */
  grid: grid.optional(),
  zRange: z.tuple([num, num]).default([-5, 3]),
  pillarPoints: z.number().int().min(1).default(4),
});
export type QdbevDistillOptions = z.input<typeof distillOptions>;

function metaGrid(graph: Graph): MaskGrid | undefined {
  const g = grid.safeParse(graph.meta?.grid);
  return g.success ? (g.data as MaskGrid) : undefined;
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
    let mask: tf.Tensor2D | undefined;
    return {
      setup: (ctx) => {
        const bev = ctx.graph.values[o.bevTap]?.shape;
        const g = o.grid ?? metaGrid(ctx.graph);
        if (bev && g && (bev[1] !== g.size[0] || bev[2] !== g.size[1])) {
          throw new Error(`BEV tap '${o.bevTap}' is [${bev}], but the view-mask grid is ${g.size[0]}×${g.size[1]}`);
        }
        const cells = bev && bev.length === 4 ? bev[1] * bev[2] : (g?.size[0] ?? 1) * (g?.size[1] ?? 1);
        if (o.cameras && g) {
          mask = tf.keep(tf.tensor2d(cameraViewMask(o.cameras as MaskCamera[], g, { zRange: o.zRange, pillarPoints: o.pillarPoints }), [o.cameras.length, cells]));
        } else {
          const n = typeof ctx.graph.meta?.cameras === 'number' ? ctx.graph.meta.cameras : 1;
          ctx.warn(`no ${o.cameras ? 'BEV grid' : 'camera calibration'} given: the view mask weighs all ${n} camera(s) by 1 on every cell`);
          mask = tf.keep(tf.ones([n, cells]) as tf.Tensor2D);
        }
      },
      loss: (ctx) => {
        const value = vgdLoss(
          { teacherImg: ctx.teacher!.taps[o.imageTap], studentImg: ctx.student.taps[o.imageTap], teacherBev: ctx.teacher!.taps[o.bevTap], studentBev: ctx.student.taps[o.bevTap] },
          mask!,
          { temperature: o.temperature, axis: o.axis },
        );
        return { vgd: { value, weight: o.weight } };
      },
      finalize: () => {
        mask?.dispose();
        mask = undefined;
      },
    };
  },
});
