import * as tf from '@tensorflow/tfjs';
import { BevzipError, definePlugin, ERROR_CODES, run, type Graph, type ParamStore, type ScoreContext } from '@bevzip/ir';
import { z } from 'zod';
import { diceDiversity, maskedAtLoss, maskedSum } from './losses';
import { MaskGenerator, maskNetOptions, type MaskNetOptions } from './mask-generator';
import { MGFM_VALUES } from './mgfm';
import { teacherHead } from './teacher-head';

const LEVELS = ['low', 'high'] as const;
type Level = (typeof LEVELS)[number];
/** The head outputs each task's loss reads (BEVFusion's heads). */
const TASK_OUTPUTS = { detection: ['heatmap', 'reg'], map: ['map'] } as const;

/** Student low-level BEV (the map its fuser reads) by modality. */
const STUDENT_LOW = { camera: 'encoders.camera.vtransform.bev_pool', lidar: 'encoders.lidar.backbone.scatter' } as const;

const tap = z.string().min(1);

/** Options of {@link vexkd}. */
export const vexkdOptions = z.strictObject({
  /** The student's modality: VeXKD distils into a camera-only or a LiDAR-only student. */
  student: z.enum(['camera', 'lidar']),
  /** `masked`: VeXKD's learned masks; `full-map`: the same loss with one all-ones mask (the baseline). */
  variant: z.enum(['masked', 'full-map']).default('masked'),
  /** Tasks whose masks weight the loss (each task has its own masks and weights π). */
  tasks: z.array(z.enum(['detection', 'map'])).min(1).default(['detection', 'map']),
  /** Student low-level BEV; default the map its fuser reads (camera BEV after the view transform, LiDAR BEV after the scatter). */
  studentLowTap: tap.optional(),
  /** Student high-level BEV (BEV-encoder output, the heads' input). */
  studentHighTap: tap.default('decoder.neck.concat'),
  /** Teacher low-level BEV: the fused map of the modality-general fusion module. */
  teacherLowTap: tap.default(MGFM_VALUES.fused),
  teacherHighTap: tap.default('decoder.neck.concat'),
  /** The fusion module's BEV queries Q_L, which the mask generators take as queries. */
  queriesTap: tap.default(MGFM_VALUES.queries),
  /** λ_low, λ_high. */
  weights: z.strictObject({ low: z.number().min(0).default(1), high: z.number().min(0).default(1) }).prefault({}),
  /** Set each level's weight so that level drives this share of the task gradient's norm (replaces `weights`). */
  gradientShare: z.number().positive().optional(),
  /** AT exponent p in a(X) = Σ_c |X_c|^p. */
  exponent: z.number().positive().default(2),
  /** The mask generation networks (one per level). */
  masks: maskNetOptions.prefault({}),
  /** The mask-training stage, run in `score` of the first stage this plugin is active in (teacher frozen). */
  maskTraining: z
    .strictObject({
      steps: z.number().int().min(1).default(100),
      lr: z.number().positive().default(1e-3),
      /** λ_div of the Dice diversity term between a task's masks. */
      diversityWeight: z.number().min(0).default(1),
    })
    .prefault({}),
});
export type VexkdInput = z.input<typeof vexkdOptions>;
export type VexkdOptions = z.output<typeof vexkdOptions>;

function hasValue(graph: Graph, name: string): boolean {
  return name in graph.values || graph.inputs.some((i) => i.name === name);
}

function shapeOf(graph: Graph, name: string): number[] {
  return graph.values[name]?.shape ?? graph.inputs.find((i) => i.name === name)!.shape;
}

const lowTap = (o: VexkdOptions) => o.studentLowTap ?? STUDENT_LOW[o.student];

/** Everything that can be checked before training: student and teacher modality, taps, shapes. */
export function checkModels(student: Graph, teacher: Graph | undefined, o: VexkdOptions, stage: string): void {
  const modality = student.meta?.modality;
  if (typeof modality === 'string' && modality !== o.student) {
    throw new BevzipError(ERROR_CODES.PLUGIN_OPTIONS, `vexkd: option 'student': '${o.student}', but the student graph '${student.name}' is a '${modality}' model; expected the student's modality (camera or lidar)`);
  }
  const studentTap = (option: string, name: string) => {
    if (!hasValue(student, name)) throw new BevzipError(ERROR_CODES.PLUGIN_REQUIREMENT, `vexkd: option '${option}': the student graph '${student.name}' has no value '${name}'; expected a BEV feature [B, H, W, C]`);
    if (shapeOf(student, name).length !== 4) throw new BevzipError(ERROR_CODES.PLUGIN_REQUIREMENT, `vexkd: option '${option}': '${name}' is [${shapeOf(student, name)}]; expected a BEV feature [B, H, W, C]`);
  };
  studentTap(o.studentLowTap ? 'studentLowTap' : 'student', lowTap(o));
  studentTap('studentHighTap', o.studentHighTap);
  if (!teacher) {
    throw new BevzipError(ERROR_CODES.PLUGIN_REQUIREMENT, `vexkd: stage '${stage}' has no teacher; expected the VeXKD teacher (pipeline field 'teacher': a camera+LiDAR model whose fuser is the modality-general fusion module, trained by a vexkd-teacher stage)`);
  }
  const tm = teacher.meta?.modality;
  if (typeof tm === 'string' && tm !== 'fusion') {
    throw new BevzipError(ERROR_CODES.PLUGIN_REQUIREMENT, `vexkd: the teacher '${teacher.name}' is a '${tm}' model; expected a camera+LiDAR fusion teacher (VeXKD's teacher fuses both modalities)`);
  }
  const teacherTap = (option: string, name: string, what: string) => {
    if (!hasValue(teacher, name)) throw new BevzipError(ERROR_CODES.PLUGIN_REQUIREMENT, `vexkd: option '${option}': the teacher graph '${teacher.name}' has no value '${name}'; expected ${what}`);
  };
  teacherTap('teacherLowTap', o.teacherLowTap, 'its low-level (fused) BEV; the default is the MGFM output, so the teacher must come from a vexkd-teacher stage');
  teacherTap('teacherHighTap', o.teacherHighTap, 'its BEV-encoder output [B, H, W, C]');
  if (o.variant === 'masked') {
    teacherTap('queriesTap', o.queriesTap, "the MGFM's BEV queries [B, H·W, C] (a teacher with the modality-general fusion module, from a vexkd-teacher stage)");
    for (const t of o.tasks) for (const out of TASK_OUTPUTS[t]) teacherTap('tasks', out, `the '${t}' head output '${out}' for mask training`);
  }
}

/** One mask generator per level, built for the teacher's shapes. */
function generators(queries: readonly number[], low: readonly number[], high: readonly number[], fusedGrid: readonly number[], o: VexkdOptions, seed: number): Record<Level, MaskGenerator> {
  const grid = [fusedGrid[1], fusedGrid[2]] as const;
  if (grid[0] * grid[1] !== queries[1]) throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `vexkd: ${queries[1]} BEV queries do not tile the ${grid[0]}×${grid[1]} fused BEV`);
  const make = (map: readonly number[], k: number) => new MaskGenerator({ queryGrid: grid, width: queries[2], map: [map[1], map[2], map[3]], tasks: o.tasks.length }, o.masks as MaskNetOptions, seed + k);
  return { low: make(low, 0), high: make(high, 1) };
}

/** Per-task weights π [tasks, perTask] flattened task-major to [tasks·perTask], as the masks' channels. */
const flatWeights = (w: tf.Tensor2D) => w.reshape([-1]) as tf.Tensor1D;

/**
 * VeXKD's masked feature distillation (Ji et al., NeurIPS 2024) through `score`, `loss` and
 * `state`. In `score` of the first stage it is active in, the mask generation networks (one per
 * level, plugin-owned, never part of the student graph) are trained MasKD-style against the frozen
 * teacher: the teacher's feature at each level is replaced by Σ π M ⊙ F and its own heads' task
 * loss plus a Dice diversity term is minimised. Then, frozen, their masks weight attention-transfer
 * distillation of the low- and high-level BEV features into the camera-only or LiDAR-only
 * student. The `full-map` variant is the same loss without masks. The generators' weights are
 * plugin state, so a resumed run distils with the same masks.
 */
export const vexkd = definePlugin({
  name: 'vexkd',
  version: '0.1.0',
  apiVersion: '^1.0.0',
  description: 'VeXKD masked feature distillation from the modality-general fusion teacher into a camera-only or LiDAR-only student',
  options: vexkdOptions,
  requires: (o) => ({
    taps: [lowTap(o), o.studentHighTap],
    teacher: { taps: [o.teacherLowTap, o.teacherHighTap, ...(o.variant === 'masked' ? [o.queriesTap] : [])] },
  }),
  hooks: (o) => {
    let gens: Record<Level, MaskGenerator> | undefined;
    let trained = false;
    let pending: Map<string, tf.Tensor> | undefined;
    let maskLoss: number[] = [];
    let maskParams = 0;

    const ensure = (queries: readonly number[], low: readonly number[], high: readonly number[], seed: number) => {
      if (gens) return gens;
      gens = generators(queries, low, high, low, o, seed);
      maskParams = LEVELS.reduce((n, l) => n + gens![l].params.names().reduce((m, p) => m + gens![l].params.get(p).size, 0), 0);
      if (pending) {
        for (const l of LEVELS) for (const name of gens[l].params.names()) {
          const t = pending.get(`${l}/${name}`);
          if (!t) throw new BevzipError(ERROR_CODES.CHECKPOINT, `vexkd: the checkpoint's mask generator state has no '${l}/${name}'`);
          gens[l].params.set(name, t);
        }
        tf.dispose([...pending.values()]);
        pending = undefined;
      }
      return gens;
    };

    const trainMasks = async (ctx: ScoreContext<VexkdOptions>) => {
      const teacher = ctx.teacher;
      if (!teacher?.params) throw new BevzipError(ERROR_CODES.PLUGIN_REQUIREMENT, `vexkd: mask training (option 'maskTraining') runs the teacher's heads on masked features and needs the teacher's weights; stage '${ctx.stage.name}' has ${teacher ? 'a teacher runner without them' : 'no teacher'}`);
      const tg = teacher.graph;
      const tp: ParamStore = teacher.params;
      const level = { low: o.teacherLowTap, high: o.teacherHighTap } as const;
      const outputs = o.tasks.flatMap((t) => [...TASK_OUTPUTS[t]]);
      const heads = { low: teacherHead(tg, level.low, outputs), high: teacherHead(tg, level.high, outputs) };
      const g = ensure(shapeOf(tg, o.queriesTap), shapeOf(tg, level.low), shapeOf(tg, level.high), ctx.seed);
      const per = o.masks.perTask;
      const optimizers = { low: tf.train.adam(o.maskTraining.lr), high: tf.train.adam(o.maskTraining.lr) };
      maskLoss = [];
      try {
        for (let step = 0; step < o.maskTraining.steps; step++) {
          const batch = await ctx.batch(step);
          try {
            const taps = [o.queriesTap, level.low, level.high, ...new Set([...heads.low.extra, ...heads.high.extra])];
            const plain = run(tg, tp, batch.feeds, { outputs, taps, training: false });
            let total = 0;
            for (const l of LEVELS) {
              const vars = g[l].trainableVariables();
              const { value, grads } = tf.variableGrads(() => {
                const { masks, weights } = g[l].forward(plain.taps[o.queriesTap], plain.taps[level[l]]);
                const terms = o.tasks.map((task, i) => {
                  const m = tf.slice(masks, [0, 0, 0, i * per], [-1, -1, -1, per]);
                  const w = tf.slice(weights, [i, 0], [1, per]).reshape([per]) as tf.Tensor1D;
                  const feeds = { [level[l]]: maskedSum(plain.taps[level[l]], m, w), ...Object.fromEntries(heads[l].extra.map((v) => [v, plain.taps[v]])) };
                  const out = run(heads[l].graph, tp, feeds, { training: false }).outputs;
                  // This task's heads see the masked feature; the other task's outputs are the plain teacher's (constants).
                  const mixed = { ...plain.outputs, ...Object.fromEntries(TASK_OUTPUTS[task].map((k) => [k, out[k]])) };
                  return tf.add(ctx.taskLoss(mixed, batch), tf.mul(diceDiversity(m), o.maskTraining.diversityWeight));
                });
                return tf.addN(terms) as tf.Scalar;
              }, vars);
              total += value.dataSync()[0];
              optimizers[l].applyGradients(grads as Record<string, tf.Variable>);
              tf.dispose([value, ...Object.values(grads)]);
            }
            maskLoss.push(total);
            tf.dispose([...Object.values(plain.outputs), ...Object.values(plain.taps)]);
          } finally {
            tf.dispose(Object.values(batch.feeds));
          }
        }
      } finally {
        optimizers.low.dispose();
        optimizers.high.dispose();
      }
      trained = true;
    };

    return {
      transform: (graph, ctx) => {
        checkModels(graph, ctx.teacherGraph, o, ctx.stage.name);
      },
      score: async (ctx) => {
        if (o.variant === 'masked' && !trained) await trainMasks(ctx);
      },
      loss: (ctx) => {
        const t = ctx.teacher?.taps;
        if (!t) throw new BevzipError(ERROR_CODES.PLUGIN_REQUIREMENT, `vexkd: stage '${ctx.stage.name}' gives no teacher taps; VeXKD needs its fusion teacher`);
        const s = ctx.student.taps;
        const feats = { low: [s[lowTap(o)], t[o.teacherLowTap]], high: [s[o.studentHighTap], t[o.teacherHighTap]] } as const;
        let masksOf: (l: Level) => { masks: tf.Tensor; weights: tf.Tensor1D };
        if (o.variant === 'masked') {
          if (!trained) throw new BevzipError(ERROR_CODES.PLUGIN_REQUIREMENT, `vexkd: stage '${ctx.stage.name}' distils before the masks were trained (they train in 'score' of the first stage the plugin is active in)`);
          const g = ensure(t[o.queriesTap].shape, t[o.teacherLowTap].shape, t[o.teacherHighTap].shape, ctx.seed);
          masksOf = (l) => {
            // Frozen masks: the generators' weights are not student variables, so no update reaches them.
            const { masks, weights } = g[l].forward(t[o.queriesTap], t[l === 'low' ? o.teacherLowTap : o.teacherHighTap]);
            return { masks, weights: flatWeights(weights) };
          };
        } else {
          masksOf = (l) => ({ masks: tf.ones([...feats[l][1].shape.slice(0, 3), 1]), weights: tf.ones([1]) as tf.Tensor1D });
        }
        const term = (l: Level) => {
          const { masks, weights } = masksOf(l);
          // Each task's π sums to 1: the sum over tasks gives every task the same say.
          return maskedAtLoss(feats[l][0], feats[l][1], masks, weights, o.exponent);
        };
        const out: Record<string, { value: tf.Scalar; weight?: number; gradientShare?: number }> = {};
        for (const l of LEVELS) {
          if (o.gradientShare === undefined && o.weights[l] === 0) continue;
          out[l] = o.gradientShare === undefined ? { value: term(l), weight: o.weights[l] } : { value: term(l), gradientShare: o.gradientShare };
        }
        return out;
      },
      export: (artifact) => {
        const left = artifact.graph.nodes.filter((n) => n.scope.startsWith('vexkd.'));
        if (left.length > 0) throw new BevzipError(ERROR_CODES.GRAPH_INVALID, `vexkd: train-only nodes reached the artifact: ${left.map((n) => n.name).join(', ')}`);
        return { report: { summary: o.variant === 'masked' ? `VeXKD mask generators (${maskParams} params, ${o.masks.blocks} blocks × 2 levels) and the teacher not in the artifact` : 'VeXKD full-map distillation: nothing added to the student' } };
      },
      state: {
        save: () => ({
          json: { trained, maskLoss },
          tensors: new Map(gens ? LEVELS.flatMap((l) => gens![l].params.names().map((n) => [`${l}/${n}`, gens![l].params.get(n) as tf.Tensor] as const)) : []),
        }),
        restore: (st) => {
          const json = (st.json ?? {}) as { trained?: boolean; maskLoss?: number[] };
          trained = json.trained === true;
          maskLoss = json.maskLoss ?? [];
          // The generators are built once the teacher's shapes are known; keep copies until then.
          pending = new Map([...st.tensors].map(([k, v]) => [k, tf.clone(v)]));
          if (gens) {
            const g = gens;
            gens = undefined;
            LEVELS.forEach((l) => g[l].dispose());
          }
        },
      },
      finalize: () => {
        if (gens) LEVELS.forEach((l) => gens![l].dispose());
        gens = undefined;
        if (pending) tf.dispose([...pending.values()]);
        pending = undefined;
      },
    };
  },
});
