import * as tf from '@tensorflow/tfjs';
import { createOrtSession, exportOnnx, ParamStore, Pipeline, run, validateGraph } from '@bevzip/ir';
import { buildBevFusion, MICRO_CONFIG, randomModelFeeds } from '@bevzip/bev-fusion';
import { MGFM_VALUES, setConstants, swapFuserForMgfm, vexkdTeacher } from './mgfm';
import { runOrt } from '@bevzip/ir';

const fusion = buildBevFusion(MICRO_CONFIG, 'fusion');

describe('swapFuserForMgfm', () => {
  it('replaces the ConvFuser by the fusion module and keeps everything else', () => {
    const { graph, constants } = swapFuserForMgfm(fusion, { heads: 2, points: 4 });
    validateGraph(graph);
    expect(graph.nodes.some((n) => n.scope === 'fuser')).toBe(false);
    expect(graph.values[MGFM_VALUES.queries].shape).toEqual([-1, 32 * 32, 16]);
    expect(graph.values[MGFM_VALUES.fused].shape).toEqual([-1, 32, 32, 16]);
    expect(graph.outputs).toEqual(fusion.outputs);
    const kept = fusion.params.filter((p) => !p.name.startsWith('fuser.')).map((p) => p.name);
    expect(graph.params.filter((p) => !p.name.startsWith('fuser.mgfm.')).map((p) => p.name)).toEqual(kept);
    // Two cross-attentions and one self-attention per layer, each with reference points and a pattern.
    expect(constants.filter((c) => c.name.endsWith('.reference'))).toHaveLength(3);
    const consumers = graph.nodes.filter((n) => n.inputs.includes(MGFM_VALUES.fused)).map((n) => n.scope);
    expect(consumers).toEqual(['decoder.backbone.blocks.0.0']);
  });

  it('runs in onnxruntime as it runs in the interpreter (the teacher runs there)', async () => {
    const { graph, constants } = swapFuserForMgfm(fusion, { heads: 2, points: 4, sampling: 'learned' });
    const params = ParamStore.init(graph, 1);
    setConstants(params, constants, graph);
    const feeds = randomModelFeeds(MICRO_CONFIG, 'fusion', { batch: 2, seed: 3 });
    const want = run(graph, params, feeds, { taps: [MGFM_VALUES.queries] });
    const session = await createOrtSession(exportOnnx(graph, params, { extraOutputs: [MGFM_VALUES.queries] }));
    const got = await runOrt(session, feeds);
    for (const name of [...graph.outputs, MGFM_VALUES.queries]) {
      const a = (want.outputs[name] ?? want.taps[name]).dataSync();
      const b = got[name].data as Float32Array;
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(a[i])));
      expect(worst).toBeLessThan(1e-3);
    }
    await session.release();
    tf.dispose([...Object.values(want.outputs), ...Object.values(want.taps), ...Object.values(feeds)]);
    params.dispose();
  });

  it('refuses a single-modality model as the teacher, naming what it found', () => {
    expect(() => swapFuserForMgfm(buildBevFusion(MICRO_CONFIG, 'camera'))).toThrow(/needs a fusion graph whose fuser reads one camera and one LiDAR BEV map.*cannot be the VeXKD teacher/);
    expect(() => swapFuserForMgfm(fusion, { heads: 3 })).toThrow(/option 'mgfm.heads': expected a divisor of the fuser width 16, got 3/);
  });

  it('trains as a teacher through the transform hook (the task loss falls)', async () => {
    const feeds = randomModelFeeds(MICRO_CONFIG, 'fusion', { batch: 1, seed: 4 });
    const data = { batch: () => ({ feeds: Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.clone()])) }) };
    const losses: number[] = [];
    const taskLoss = (o: Record<string, tf.Tensor>) => tf.addN([tf.mean(tf.square(tf.sub(tf.sigmoid(o.heatmap), 0.1))), tf.mean(tf.square(o.map))]) as tf.Scalar;
    const pipeline = new Pipeline({ seed: 2, graph: fusion, stages: [{ name: 'teacher', steps: 6, data, taskLoss, optimizer: { kind: 'adam', lr: 3e-3 } }] }).use(vexkdTeacher({ mgfm: { sampling: 'window', points: 4 } }));
    pipeline.events.subscribe((e) => e.type === 'step' && losses.push(e.total));
    const result = await pipeline.run();
    expect(result.graph.nodes.some((n) => n.scope.startsWith('fuser.mgfm.layers.0.ca_camera'))).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
    const q0 = result.params.get('fuser.mgfm.query_embed');
    expect(q0.shape).toEqual([1024, 16]);
    result.params.dispose();
    for (const m of [...result.masks.params.values(), ...result.masks.features.values()]) m.dispose();
    tf.dispose(Object.values(feeds));
  });
});
