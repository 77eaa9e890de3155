import * as tf from '@tensorflow/tfjs';
import { BevzipError, ParamStore, Pipeline, run, type StepEvent, type TrainEvent } from '@bevzip/ir';
import { mseTaskLoss, tinyConvGraph, tinyData, TINY_OUTPUT } from '@bevzip/ir/testing';
import { sigmoidMse } from './distill';
import { alterMoma, headDistill } from './plugin';

const graph = tinyConvGraph();

describe('sigmoid-head response distillation', () => {
  // σ(0) = 1/2, σ(ln 3) = 3/4, σ(ln 4) = 4/5, σ(−ln 4) = 1/5.
  const student = () => tf.tensor([0, Math.log(3), Math.log(4)], [1, 1, 3, 1]);
  const teacher = () => tf.tensor([0, 0, -Math.log(4)], [1, 1, 3, 1]);

  it('is the mean squared difference of the sigmoid outputs (hand-computed case)', () => {
    const [s, t] = [student(), teacher()];
    const v = sigmoidMse(s, t);
    // ((0)² + (1/4)² + (3/5)²) / 3 = (0 + 0.0625 + 0.36) / 3
    expect(v.dataSync()[0]).toBeCloseTo(0.4225 / 3, 6);
    tf.dispose([s, t, v]);
  });

  it('sends gradient into the student only: (2/n)(σ_S − σ_T)σ_S(1 − σ_S), zero for the teacher', () => {
    const [s, t] = [student(), teacher()];
    const [gs, gt] = tf.grads((a: tf.Tensor, b: tf.Tensor) => sigmoidMse(a, b))([s, t]);
    const want = [0, (2 / 3) * 0.25 * (0.75 * 0.25), (2 / 3) * 0.6 * (0.8 * 0.2)];
    Array.from(gs.dataSync()).forEach((g, i) => expect(g).toBeCloseTo(want[i], 6));
    expect(Array.from(gt.dataSync()).map(Math.abs)).toEqual([0, 0, 0]);
    tf.dispose([s, t, gs, gt]);
  });

  it('refuses heads of different shapes', () => {
    const [s, t] = [tf.zeros([1, 2, 2, 1]), tf.zeros([1, 2, 2, 2])];
    expect(() => sigmoidMse(s, t)).toThrow(/student output \[1,2,2,1\] and teacher output \[1,2,2,2\] differ/);
    tf.dispose([s, t]);
  });
});

describe('prune-kd in a fine-tune stage', () => {
  const SEED = 5;

  async function fineTune(plugins: ReturnType<typeof headDistill | typeof alterMoma>[], withTeacher = true, onStep?: () => void) {
    const teacher = { graph, params: ParamStore.init(graph, SEED + 100) };
    const teacherBefore = new Map(teacher.params.names().map((n) => [n, Float32Array.from(teacher.params.get(n).dataSync())]));
    const pipeline = new Pipeline({
      seed: SEED,
      graph,
      stages: [{ name: 'finetune', steps: 3, data: tinyData(4), taskLoss: mseTaskLoss, optimizer: { kind: 'adam', lr: 1e-2 }, teacher: withTeacher ? teacher : undefined }],
    });
    for (const p of plugins) pipeline.use(p);
    const events: TrainEvent[] = [];
    pipeline.events.subscribe((e) => {
      events.push(e);
      if (e.type === 'step') onStep?.();
    });
    try {
      const result = await pipeline.run();
      return { result, events, teacher, teacherBefore };
    } catch (e) {
      teacher.params.dispose();
      throw e;
    }
  }

  it('logs the term the runtime\'s teacher seam gives: at step 0 it equals σ-MSE of the two models on that batch, and the teacher never changes', async () => {
    const { result, events, teacher, teacherBefore } = await fineTune([headDistill({ outputs: [TINY_OUTPUT], weight: 2 })]);
    const first = events.find((e): e is StepEvent => e.type === 'step' && e.step === 0)!;
    const batch = await tinyData(4).batch(0, { seed: SEED, stage: 'finetune' });
    const student = ParamStore.init(graph, SEED);
    const want = tf.tidy(() =>
      sigmoidMse(run(graph, student, batch.feeds, { training: true }).outputs[TINY_OUTPUT], run(graph, teacher.params, batch.feeds).outputs[TINY_OUTPUT]).dataSync()[0],
    );
    expect(first.losses[`prune-kd/${TINY_OUTPUT}`]).toBeCloseTo(want, 5);
    expect(first.total).toBeCloseTo(first.losses.task + 2 * want, 4);
    for (const [n, v] of teacherBefore) expect([...teacher.params.get(n).dataSync()]).toEqual([...v]);
    // The student trained.
    expect([...result.params.get('head.conv2.weight').dataSync()]).not.toEqual([...student.get('head.conv2.weight').dataSync()]);
    Object.values(batch.feeds).forEach((t) => t.dispose());
    student.dispose();
    teacher.params.dispose();
    result.params.dispose();
  });

  it('composes with a pruning criterion, and with a gradient share the runtime sets the weight', async () => {
    const { result, events, teacher } = await fineTune([
      alterMoma({ sparsity: 0.5, scoringBatches: 1, reactivationSteps: 1 }),
      headDistill({ outputs: [TINY_OUTPUT], gradientShare: 0.5 }),
    ]);
    expect(events.some((e) => e.type === 'metric' && e.name === `weight/prune-kd/${TINY_OUTPUT}` && e.value > 0)).toBe(true);
    const w = result.params.get('head.conv2.weight').dataSync();
    const m = result.masks.params.get('head.conv2.weight')!.dataSync();
    m.forEach((v, i) => v === 0 && expect(Math.abs(w[i])).toBe(0));
    teacher.params.dispose();
    result.params.dispose();
    result.masks.params.forEach((t) => t.dispose());
  });

  it('fails before training without a teacher or on an output the student lacks', async () => {
    await expect(fineTune([headDistill({ outputs: [TINY_OUTPUT] })], false)).rejects.toThrow(/requires a teacher, but stage 'finetune' has none|has no teacher/);
    const err = await fineTune([headDistill({ outputs: ['heatmap'] })]).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(BevzipError);
    expect((err as Error).message).toMatch(/'heatmap'/);
  });

  it('leaves the tensor count flat across steps and across runs', async () => {
    const counts: number[] = [];
    const once = async () => {
      counts.length = 0;
      const { result, teacher } = await fineTune([headDistill({ outputs: [TINY_OUTPUT] })], true, () => counts.push(tf.memory().numTensors));
      teacher.params.dispose();
      result.params.dispose();
    };
    await once();
    const before = tf.memory().numTensors;
    await once();
    expect(tf.memory().numTensors).toBe(before);
    expect(counts.length).toBe(3);
    expect(new Set(counts).size).toBe(1);
  });
});
