import * as tf from '@tensorflow/tfjs';
import { BevzipError, definePlugin, ERROR_CODES, GraphBuilder, type Graph, type LossTerm, type ParamStore, type Tags } from '@bevzip/ir';
import { batchBoxes, batchKeypoints, gaussianMask } from './keypoints';
import { featureLoss, relationLoss, responseLoss, sampleBev, stopGradient } from './losses';
import { resolveOptions, unidistillOptions, type Modality, type ResolvedOptions } from './options';

/** Value names of the adapters' outputs in the student graph. */
export const ADAPTER_VALUES = { low: 'unidistill.adapter.low.out', high: 'unidistill.adapter.high.out' } as const;

const schema = unidistillOptions.refine((o) => o.feature.enabled || o.relation.enabled || o.response.enabled, {
  message: 'at least one of feature, relation, response must be enabled',
});

function fail(message: string): never {
  throw new BevzipError(ERROR_CODES.PLUGIN_REQUIREMENT, `unidistill: ${message}`);
}

function valueShape(graph: Graph, name: string, option: string, who: string, what: string): number[] {
  const info = graph.values[name] ?? graph.inputs.find((i) => i.name === name);
  if (!info) fail(`option '${option}': ${who} graph '${graph.name}' has no value '${name}'; expected ${what}`);
  if (info.shape.length !== 4) fail(`option '${option}': '${name}' of the ${who} has shape [${info.shape}]; expected ${what} (rank 4)`);
  return info.shape;
}

/** A graph's sensor modality: its `meta.modality`, else which encoders its (inference) nodes carry. */
export function graphModality(graph: Graph): Modality {
  const m = graph.meta?.modality;
  if (m === 'camera' || m === 'lidar' || m === 'fusion') return m;
  const live = graph.nodes.filter((n) => !n.tags.trainOnly);
  const cam = live.some((n) => n.tags.modality === 'camera');
  const lidar = live.some((n) => n.tags.modality === 'lidar');
  return cam && lidar ? 'fusion' : lidar ? 'lidar' : 'camera';
}

function checkModality(graph: Graph, want: Modality, who: 'student' | 'teacher', setting: string): void {
  const got = graphModality(graph);
  if (got !== want) fail(`option 'setting' is '${setting}', which needs a ${want} ${who}; the ${who} graph '${graph.name}' is ${got}`);
}

/** A 1×1 conv [cin → cout] reading `input`, as its own graph; the caller appends it to the student. */
function adapterGraph(which: 'low' | 'high', input: string, shape: number[], cout: number, tags: Tags): Graph {
  const b = new GraphBuilder(`unidistill.adapter.${which}`);
  const x = b.input(input, shape);
  b.scoped(`unidistill.adapter.${which}`, tags, () => {
    const w = b.param('weight', [1, 1, shape[3], cout], { init: { kind: 'normal', std: 0.01 } });
    const bias = b.param('bias', [cout], { role: 'bias' });
    const y = b.op('conv2d', [x, w, bias], { pad: 'same' }, { name: 'out' });
    b.output(y);
  });
  const g = b.build();
  if (g.outputs[0] !== ADAPTER_VALUES[which]) throw new Error(`adapter output '${g.outputs[0]}' is not '${ADAPTER_VALUES[which]}'`);
  return g;
}

/** Identity on the shared channels, zero elsewhere: the adapted feature starts as the student's own. */
function identityWeight(cin: number, cout: number): tf.Tensor {
  return tf.tidy(() => tf.eye(cin, cout).reshape([1, 1, cin, cout]));
}

/**
 * The student graph with the train-only adapters (before the feature and relation losses, mapping
 * to the teacher's channels), after checking both graphs against the setting and the taps. Returns
 * the graph unchanged when the adapters are off or already there.
 */
export function addAdapters(student: Graph, teacher: Graph | undefined, o: ResolvedOptions, params?: ParamStore): Graph {
  checkModality(student, o.modalities.student, 'student', o.setting);
  if (teacher) checkModality(teacher, o.modalities.teacher, 'teacher', o.setting);
  const pairs: { which: 'low' | 'high'; on: boolean; s: [string, string]; t: [string, string]; what: string }[] = [
    { which: 'low', on: o.feature.enabled, s: [o.studentLowTap, 'studentLowTap'], t: [o.teacherLowTap, 'teacherLowTap'], what: 'a low-level BEV feature [B, X, Y, C]' },
    { which: 'high', on: o.relation.enabled, s: [o.studentHighTap, 'studentHighTap'], t: [o.teacherHighTap, 'teacherHighTap'], what: 'a high-level BEV feature [B, X, Y, C]' },
  ];
  const shapes = pairs.map((p) => {
    if (!p.on) return undefined;
    const s = valueShape(student, p.s[0], p.s[1], 'student', p.what);
    const t = teacher ? valueShape(teacher, p.t[0], p.t[1], 'teacher', p.what) : undefined;
    // Feature distillation compares channels one to one; without an adapter they must agree.
    if (p.which === 'low' && t && !o.adapters.enabled && s[3] !== t[3]) {
      fail(`options '${p.s[1]}'/'${p.t[1]}': the student's low-level BEV has ${s[3]} channels and the teacher's ${t[3]}; enable adapters or tap features of equal width`);
    }
    return { s, cout: t ? t[3] : s[3] };
  });
  if (o.response.enabled) {
    for (const [tap, option] of [[o.heatmap, 'heatmap'], [o.reg, 'reg']] as const) {
      const s = valueShape(student, tap, option, 'student', 'a head map [B, H, W, C]');
      const t = teacher && valueShape(teacher, tap, option, 'teacher', 'a head map [B, H, W, C]');
      if (t && t.slice(1).join() !== s.slice(1).join()) fail(`option '${option}': the teacher's '${tap}' is [${t}] and the student's [${s}]; response distillation needs equal head maps`);
    }
  }
  if (!o.adapters.enabled || student.params.some((p) => p.name.startsWith('unidistill.'))) return student;
  const tags: Tags = { modality: o.modalities.student === 'lidar' ? 'lidar' : 'camera', stage: 'adapter', trainOnly: true };
  let g = student;
  pairs.forEach((p, i) => {
    const sh = shapes[i];
    if (!sh) return;
    const m = adapterGraph(p.which, p.s[0], sh.s, sh.cout, tags);
    g = { ...g, params: [...g.params, ...m.params], nodes: [...g.nodes, ...m.nodes], values: { ...g.values, ...m.values } };
    if (params && o.adapters.init === 'identity') {
      const w = identityWeight(sh.s[3], sh.cout);
      params.set(`unidistill.adapter.${p.which}.weight`, w, true);
      w.dispose();
    }
  });
  return g;
}

/**
 * UniDistill (Zhou et al., CVPR 2023) through `transform` and `loss`: a frozen LiDAR, camera or
 * fusion teacher distils into a camera or LiDAR student at nine keypoints per ground-truth box —
 * L1 on low-level BEV features, L1 between the 9×9 cosine-similarity matrices of high-level BEV
 * features, and L1 between class-max heat maps and between regression maps inside Gaussian box
 * masks. The optional 1×1 adapters are student-graph params tagged train-only: trained by the stage
 * optimizer, checkpointed with the student and stripped before export.
 */
export const unidistill = definePlugin({
  name: 'unidistill',
  version: '0.1.0',
  apiVersion: '^1.0.0',
  description: 'UniDistill cross-modal distillation at ground-truth box keypoints (feature, relation, response) for camera or LiDAR students',
  options: schema,
  requires: (input) => {
    const o = resolveOptions(input);
    const taps: string[] = [];
    const teacher: string[] = [];
    const adapted = (which: 'low' | 'high', tap: string) => (o.adapters.enabled ? ADAPTER_VALUES[which] : tap);
    if (o.feature.enabled) {
      taps.push(adapted('low', o.studentLowTap));
      teacher.push(o.teacherLowTap);
    }
    if (o.relation.enabled) {
      taps.push(adapted('high', o.studentHighTap));
      teacher.push(o.teacherHighTap);
    }
    if (o.response.enabled) {
      taps.push(o.heatmap, o.reg);
      teacher.push(o.heatmap, o.reg);
    }
    return { taps: [...new Set(taps)], teacher: { taps: [...new Set(teacher)] } };
  },
  hooks: (input) => {
    const o = resolveOptions(input);
    let adapterParams = 0;
    return {
      transform: (graph, ctx) => {
        if (!ctx.teacherGraph) fail(`stage '${ctx.stage.name}' has no teacher; setting '${o.setting}' needs a frozen ${o.modalities.teacher} teacher`);
        const g = addAdapters(graph, ctx.teacherGraph, o, ctx.params);
        adapterParams = g.params.filter((p) => p.name.startsWith('unidistill.')).reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
        return g === graph ? undefined : g;
      },
      loss: (ctx) => {
        const teacherTaps = ctx.teacher?.taps;
        if (!teacherTaps) fail('no teacher taps in this stage; UniDistill needs a frozen teacher');
        const t = Object.fromEntries(Object.entries(teacherTaps).map(([k, v]) => [k, stopGradient(v)]));
        const s = ctx.student.taps;
        const grid = ctx.batch.geometry?.grid;
        if (!grid) throw new BevzipError(ERROR_CODES.BAD_FEED, 'unidistill: the batch carries no sensor geometry (Batch.geometry.grid); keypoints are placed on the BEV grid it gives');
        const anyTap = s[o.heatmap] ?? s[ADAPTER_VALUES.low] ?? s[o.studentLowTap] ?? Object.values(s)[0];
        const boxes = batchBoxes(ctx.batch.boxes, anyTap.shape[0]!);
        const terms: Record<string, LossTerm> = {};
        // A term's weight, or the share of the task gradient the runtime turns into one.
        const term = (k: 'feature' | 'relation' | 'response', value: tf.Scalar): LossTerm =>
          o[k].gradientShare !== undefined ? { value, gradientShare: o[k].gradientShare } : { value, weight: o.weights[k] };
        if (boxes.every((b) => b.length === 0)) {
          // No object in the batch: every term is an empty mean.
          for (const k of ['feature', 'relation', 'response'] as const) if (o[k].enabled) terms[k] = term(k, tf.scalar(0));
          return terms;
        }
        // Keypoint features of a student/teacher pair, each on its own map's cell grid.
        const atKeypoints = (sMap: tf.Tensor, tMap: tf.Tensor) => {
          const ks = batchKeypoints(boxes, { rows: sMap.shape[1]!, cols: sMap.shape[2]! }, grid);
          const kt = batchKeypoints(boxes, { rows: tMap.shape[1]!, cols: tMap.shape[2]! }, grid);
          const n = ks.maxBoxes * 9;
          return { s: sampleBev(sMap, ks.points, n), t: sampleBev(tMap, kt.points, n), valid: ks.valid, count: ks.count };
        };
        if (o.feature.enabled) {
          const sMap = s[o.adapters.enabled ? ADAPTER_VALUES.low : o.studentLowTap];
          const tMap = t[o.teacherLowTap];
          if (sMap.shape[3] !== tMap.shape[3]) throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `unidistill: options 'studentLowTap'/'teacherLowTap': ${sMap.shape[3]} student and ${tMap.shape[3]} teacher channels`);
          const k = atKeypoints(sMap, tMap);
          terms.feature = term('feature', featureLoss(k.s, k.t, k.valid, k.count));
        }
        if (o.relation.enabled) {
          const k = atKeypoints(s[o.adapters.enabled ? ADAPTER_VALUES.high : o.studentHighTap], t[o.teacherHighTap]);
          terms.relation = term('relation', relationLoss(k.s, k.t, k.valid, k.count));
        }
        if (o.response.enabled) {
          const heat = s[o.heatmap];
          const [b, h, w] = heat.shape;
          const mask = gaussianMask(boxes, { rows: h!, cols: w! }, grid, { overlap: o.response.gaussianOverlap, minRadius: o.response.minRadius });
          const r = responseLoss(heat, t[o.heatmap], s[o.reg], t[o.reg], mask, o.response.teacherTemperature);
          if (b !== t[o.heatmap].shape[0]) throw new BevzipError(ERROR_CODES.SHAPE_MISMATCH, `unidistill: option 'heatmap': teacher batch ${t[o.heatmap].shape[0]}, student ${b}`);
          terms.response = term('response', tf.add(r.cls, r.reg) as tf.Scalar);
        }
        return terms;
      },
      export: (artifact) => {
        const left = artifact.graph.params.filter((p) => p.name.startsWith('unidistill.'));
        if (left.length > 0) throw new BevzipError(ERROR_CODES.GRAPH_INVALID, `unidistill: train-only params reached the artifact: ${left.map((p) => p.name).join(', ')}`);
        const shown = (k: 'feature' | 'relation' | 'response') => (o[k].gradientShare !== undefined ? `share ${o[k].gradientShare}` : String(o.weights[k]));
        return { report: { summary: `UniDistill ${o.setting} (λ_f ${shown('feature')}, λ_r ${shown('relation')}, λ_p ${shown('response')}); ${o.adapters.enabled ? `adapters (${adapterParams} params)` : 'no adapters'} not in the artifact` } };
      },
    };
  },
});
