import * as tf from '@tensorflow/tfjs';
import { BevzipError, definePlugin, ERROR_CODES, run, type Graph } from '@bevzip/ir';
import { activationMap, adversarialLoss, bceWithLogits, featureLoss, gaussianFocalLoss, instanceLoss, weightedBoxLoss } from './losses';
import { attach, discriminator, fdDecoder, grlNode, isHead, MODULE_VALUES } from './modules';
import { x3kdOptions, type X3kdOptions } from './options';
import { boxesFromTargets, instanceTargets, pseudoLabels } from './targets';

const x3kdSchema = x3kdOptions.refine((o) => o.is.enabled || o.fd.enabled || o.at.enabled || o.od.enabled, {
  message: 'at least one of is, fd, at, od must be enabled',
});

function valueShape(graph: Graph, name: string, option: string, rank: number, what: string): number[] {
  const info = graph.values[name] ?? graph.inputs.find((i) => i.name === name);
  if (!info) {
    throw new BevzipError(ERROR_CODES.PLUGIN_REQUIREMENT, `x3kd: option '${option}': student graph '${graph.name}' has no value '${name}'; expected ${what}`);
  }
  if (info.shape.length !== rank) {
    throw new BevzipError(ERROR_CODES.PLUGIN_REQUIREMENT, `x3kd: option '${option}': '${name}' has shape [${info.shape}]; expected ${what} (rank ${rank})`);
  }
  return info.shape;
}

/** Refuses a student with a LiDAR branch: X3KD distils into camera-only students. */
function checkCameraStudent(graph: Graph): void {
  const modality = graph.meta?.modality;
  const lidar = graph.nodes.find((n) => n.tags.modality === 'lidar' && !n.tags.trainOnly);
  if ((typeof modality === 'string' && modality !== 'camera') || lidar) {
    throw new BevzipError(ERROR_CODES.PLUGIN_REQUIREMENT, `x3kd: the student must be camera-only; graph '${graph.name}' is ${typeof modality === 'string' ? `'${modality}'` : `not (node '${lidar!.name}' is LiDAR)`}`);
  }
}

function classCount(graph: Graph, o: X3kdOptions): number {
  const meta = graph.meta?.classes;
  if (Array.isArray(meta)) return meta.length;
  return valueShape(graph, o.heatmap, 'heatmap', 4, 'heat-map logits [B, H, W, K]')[3];
}

/** The train-only modules (IS head, Dec_FD, GRL + discriminator) added to a camera student graph. */
export function addModules(graph: Graph, o: X3kdOptions): Graph {
  checkCameraStudent(graph);
  if (graph.params.some((p) => p.name.startsWith('x3kd.'))) return graph;
  let g = graph;
  if (o.is.enabled) {
    const shape = valueShape(graph, o.imageTap, 'imageTap', 4, 'perspective-view features [B·N_cam, h, w, C]');
    g = attach(g, isHead(o.imageTap, shape, classCount(graph, o), o.is.channels));
  }
  if (o.fd.enabled || o.at.enabled) {
    const shape = valueShape(graph, o.studentBevTap, 'studentBevTap', 4, 'a BEV feature [B, X, Y, C]');
    if (o.fd.enabled) g = attach(g, fdDecoder(o.studentBevTap, shape, o.fd.channels));
    if (o.at.enabled) g = attach(g, discriminator(shape, o.at.channels), [grlNode(o.studentBevTap, { lambda: o.at.grlLambda, schedule: o.at.lambdaSchedule, gamma: o.at.gamma })], { [MODULE_VALUES.atIn]: { shape: [...shape], dtype: 'float32' } });
  }
  if (o.od.enabled) {
    valueShape(graph, o.heatmap, 'heatmap', 4, 'heat-map logits [B, H, W, K]');
    valueShape(graph, o.reg, 'reg', 4, 'box regression [B, H, W, R]');
  }
  return g;
}

function resizeTo(x: tf.Tensor, like: tf.Tensor): tf.Tensor {
  const [h, w] = [like.shape[1]!, like.shape[2]!];
  return x.shape[1] === h && x.shape[2] === w ? x : tf.image.resizeBilinear(x as tf.Tensor4D, [h, w]);
}

/**
 * X3KD (Klingner et al., CVPR 2023) through the `transform` and `loss` hooks: a camera-only student is
 * distilled across tasks (X-IS: instance-segmentation targets on its perspective-view features),
 * across modalities in BEV (X-FD: a train-only decoder predicts the LiDAR teacher's activation map;
 * X-AT: a train-only discriminator behind a gradient-reversal op) and at the outputs (X-OD: teacher
 * pseudo-labels, Gaussian focal loss and confidence-weighted Smooth-L1). The train-only modules are
 * student-graph params tagged `trainOnly`, trained by the stage optimizer, checkpointed with the
 * student and removed before export. Needs a teacher with a LiDAR branch.
 */
export const x3kd = definePlugin({
  name: 'x3kd',
  version: '0.1.0',
  apiVersion: '^1.0.0',
  description: 'X3KD cross-modal, cross-task and cross-stage distillation from a LiDAR teacher into a camera-only student',
  options: x3kdSchema,
  requires: (o) => {
    const taps: string[] = [];
    const teacher = [o.teacherLidarTap];
    if (o.is.enabled) taps.push(o.imageTap, MODULE_VALUES.isLogits);
    if (o.fd.enabled) taps.push(MODULE_VALUES.fdOut);
    if (o.at.enabled) taps.push(MODULE_VALUES.atLogits);
    if (o.fd.enabled || o.at.enabled) teacher.push(o.teacherBevTap);
    if (o.od.enabled) {
      taps.push(o.heatmap, o.reg);
      teacher.push(o.heatmap, o.reg);
    }
    return { taps: [...new Set(taps)], teacher: { taps: [...new Set(teacher)] } };
  },
  hooks: (o) => {
    // The discriminator as its own graph (same param names as in the student) for the teacher side.
    let disc: Graph | undefined;
    let moduleParams = 0;
    return {
      transform: (graph) => {
        const g = addModules(graph, o);
        moduleParams = g.params.filter((p) => p.name.startsWith('x3kd.')).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
        return g === graph ? undefined : g;
      },
      loss: (ctx) => {
        const terms: Record<string, { value: tf.Scalar; weight: number }> = {};
        const s = ctx.student.taps;
        const t = ctx.teacher?.taps;
        if (!t) throw new BevzipError(ERROR_CODES.PLUGIN_REQUIREMENT, 'x3kd: no teacher taps in this stage; X3KD needs a LiDAR (or fusion) teacher');
        if (o.is.enabled) {
          const geometry = ctx.batch.geometry;
          if (!geometry || geometry.cameras.length === 0) throw new BevzipError(ERROR_CODES.BAD_FEED, 'x3kd: X-IS needs the batch sensor geometry (cameras per sample) to project boxes into the images; set is.enabled: false for data without it');
          const logits = s[MODULE_VALUES.isLogits];
          const [views, h, w, c] = logits.shape;
          const k = c - 2;
          const boxes = boxesFromTargets(ctx.batch.targets, geometry.grid);
          const it = instanceTargets(boxes, geometry.cameras, { h, w }, k, o.is.minDepth);
          if (views !== geometry.cameras.length * (geometry.cameras[0]?.length ?? 0)) {
            throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `x3kd: option 'imageTap' gives ${views} views, but the batch has ${geometry.cameras.length} samples × ${geometry.cameras[0]?.length ?? 0} cameras`);
          }
          const value = instanceLoss(logits, tf.tensor4d(it.masks, [views, h, w, k]), tf.tensor4d(it.offsets, [views, h, w, 2]), tf.tensor4d(it.inside, [views, h, w, 1]), o.is.offsetWeight);
          terms.is = { value, weight: o.is.weight };
        }
        if (o.fd.enabled || o.at.enabled) {
          // Teacher taps come from onnxruntime: constants on the tape, so no gradient reaches them.
          const teacherBev = t[o.teacherBevTap];
          if (o.fd.enabled) {
            const pred = s[MODULE_VALUES.fdOut];
            terms.fd = { value: featureLoss(pred, resizeTo(activationMap(teacherBev, o.fd.activation, o.fd.normalize), pred)), weight: o.fd.weight };
          }
          if (o.at.enabled) {
            const studentLogits = s[MODULE_VALUES.atLogits];
            const shape = ctx.graph.values[MODULE_VALUES.atIn].shape;
            if (teacherBev.shape[3] !== shape[3]) {
              throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `x3kd: option 'teacherBevTap': teacher BEV has ${teacherBev.shape[3]} channels, the student's ('studentBevTap') ${shape[3]}; X-AT's discriminator needs equal channels`);
            }
            disc ??= discriminator(shape, o.at.channels);
            const input = teacherBev.shape[1] === shape[1] && teacherBev.shape[2] === shape[2] ? teacherBev : tf.image.resizeBilinear(teacherBev as tf.Tensor4D, [shape[1], shape[2]]);
            const teacherLogits = run(disc, ctx.params, { [MODULE_VALUES.atIn]: input }, { training: true }).outputs[MODULE_VALUES.atLogits];
            terms.at = { value: adversarialLoss(teacherLogits, studentLogits, o.at.output), weight: o.at.weight };
          }
        }
        if (o.od.enabled) {
          const heat = ctx.student.outputs[o.heatmap] ?? s[o.heatmap];
          const reg = ctx.student.outputs[o.reg] ?? s[o.reg];
          const teacherHeat = t[o.heatmap];
          if (teacherHeat.shape.join() !== heat.shape.join() || t[o.reg].shape.join() !== reg.shape.join()) {
            throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `x3kd: options 'heatmap'/'reg': teacher heads [${teacherHeat.shape}]/[${t[o.reg].shape}] differ from the student's [${heat.shape}]/[${reg.shape}]`);
          }
          const prob = tf.sigmoid(teacherHeat);
          const labels = pseudoLabels(prob.dataSync() as Float32Array, heat.shape, o.od);
          const heatTerm = o.od.heatmapTarget === 'soft' ? bceWithLogits(heat, prob) : gaussianFocalLoss(heat, tf.tensor(labels.heatmap, heat.shape));
          const [b, hh, ww] = heat.shape;
          const boxTerm = weightedBoxLoss(reg, t[o.reg], tf.tensor3d(labels.boxWeight, [b, hh, ww]), o.od.beta);
          terms.od = { value: tf.add(heatTerm, tf.mul(boxTerm, o.od.boxWeight)) as tf.Scalar, weight: o.od.weight };
        }
        return terms;
      },
      export: (artifact) => {
        const left = artifact.graph.params.filter((p) => p.name.startsWith('x3kd.'));
        if (left.length > 0) throw new BevzipError(ERROR_CODES.GRAPH_INVALID, `x3kd: train-only params reached the artifact: ${left.map((p) => p.name).join(', ')}`);
        return { report: { summary: `X3KD train-only modules (${moduleParams} params: ${[o.is.enabled && 'IS head', o.fd.enabled && 'BEV decoder', o.at.enabled && 'discriminator'].filter(Boolean).join(', ') || 'none'}) not in the artifact` } };
      },
    };
  },
});
