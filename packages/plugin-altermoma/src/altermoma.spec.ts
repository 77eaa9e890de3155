import * as tf from '@tensorflow/tfjs';
import { ParamStore, Pipeline } from '@bevzip/ir';
import { runPlugin, syntheticData } from '@bevzip/plugin-tester';
import { alterEva } from './altermoma';
import { alterMoma } from './plugin';
import { mat, matmul, transpose, twoBranchGraph, TWO_BRANCH, type Mat } from './testing-fixtures/two-branch';

const SEED = 7;
const graph = twoBranchGraph();
type W = { c: Mat; l: Mat; f: Mat };
type Feeds = { cam: Mat; lidar: Mat };

function feeds(index: number): Feeds {
  const b = syntheticData(graph).batch(index, { seed: SEED, stage: 'test' }) as {
    feeds: Record<string, { dataSync(): ArrayLike<number>; dispose(): void }>;
  };
  const out = { cam: mat(2, 3, b.feeds.cam.dataSync()), lidar: mat(2, 2, b.feeds.lidar.dataSync()) };
  Object.values(b.feeds).forEach((t) => t.dispose());
  return out;
}

/** ∂/∂W of the harness's task loss mean(y²), with the masked branch's weights zeroed, in float64. */
function grads(w: W, x: Feeds, masked?: 'c' | 'l'): W {
  const c = masked === 'c' ? mat(3, 2) : w.c;
  const l = masked === 'l' ? mat(2, 2) : w.l;
  const fc = matmul(x.cam, c);
  const fl = matmul(x.lidar, l);
  const h = mat(
    2,
    4,
    [0, 1].flatMap((r) => [fc.data[r * 2], fc.data[r * 2 + 1], fl.data[r * 2], fl.data[r * 2 + 1]]),
  );
  const y = matmul(h, w.f);
  const dy = mat(
    2,
    2,
    y.data.map((v) => v / 2),
  );
  const dh = matmul(dy, transpose(w.f));
  const part = (from: number) =>
    mat(
      2,
      2,
      [0, 1].flatMap((r) => [dh.data[r * 4 + from], dh.data[r * 4 + from + 1]]),
    );
  const zero = (m: Mat, on: boolean) => (on ? mat(m.rows, m.cols) : m);
  return {
    c: zero(matmul(transpose(x.cam), part(0)), masked === 'c'),
    l: zero(matmul(transpose(x.lidar), part(2)), masked === 'l'),
    f: matmul(transpose(h), dy),
  };
}

const keys = ['c', 'l', 'f'] as const;
const meanGrads = (w: W, batches: number[], masked?: 'c' | 'l'): W => {
  const all = batches.map((i) => grads(w, feeds(i), masked));
  const avg = (k: (typeof keys)[number]) =>
    mat(
      w[k].rows,
      w[k].cols,
      w[k].data.map((_, j) => all.reduce((s, g) => s + g[k].data[j], 0) / all.length),
    );
  return { c: avg('c'), l: avg('l'), f: avg('f') };
};
const absProd = (a: Mat, b: Mat) => a.data.map((v, i) => Math.abs(v * b.data[i]));
const norm = (v: Float64Array) => {
  const s = v.reduce((a, b) => a + b, 0);
  return v.map((x) => x / s);
};

describe('AlterMOMA scores on a two-branch toy', () => {
  const store = ParamStore.init(graph, SEED);
  const theta: W = {
    c: mat(3, 2, store.get(TWO_BRANCH.camera).dataSync()),
    l: mat(2, 2, store.get(TWO_BRANCH.lidar).dataSync()),
    f: mat(4, 2, store.get(TWO_BRANCH.fusion).dataSync()),
  };
  store.dispose();
  const D = [0, 1];
  const lr = 0.5;
  const reactivation = [2, 3];

  /** ReRI of the stage masking `masked`: SGD reactivation in float64, then |θ0·(g0 − gB)|. */
  function reri(masked: 'c' | 'l'): W {
    const g0 = meanGrads(theta, D, masked);
    let w: W = {
      c: { ...theta.c, data: theta.c.data.slice() },
      l: { ...theta.l, data: theta.l.data.slice() },
      f: { ...theta.f, data: theta.f.data.slice() },
    };
    for (const i of reactivation) {
      const g = grads(w, feeds(i), masked);
      w = Object.fromEntries(
        keys.map((k) => [
          k,
          mat(
            w[k].rows,
            w[k].cols,
            w[k].data.map((v, j) => v - lr * g[k].data[j]),
          ),
        ]),
      ) as W;
    }
    const gB = meanGrads(w, D, masked);
    return Object.fromEntries(
      keys.map((k) => [
        k,
        mat(
          theta[k].rows,
          theta[k].cols,
          theta[k].data.map((t, j) => Math.abs(t * g0[k].data[j] - t * gB[k].data[j])),
        ),
      ]),
    ) as W;
  }

  const options = {
    sparsity: 0.5,
    scoringBatches: 2,
    reactivationSteps: 2,
    reactivationLr: lr,
    reactivationOptimizer: 'sgd',
    scoringMode: 'eval',
    // The paper's per-group sums, which the references below compute.
    normalization: 'sum',
  } as const;

  it('DeCI alone (β = 0) is |θ·∂L/∂θ| of the unmasked model, L1-normalized per group', async () => {
    const result = await runPlugin(alterMoma({ ...options, beta: 0 }), graph, { seed: SEED, steps: 0 });
    const g = meanGrads(theta, D);
    for (const [k, name] of [
      ['c', TWO_BRANCH.camera],
      ['l', TWO_BRANCH.lidar],
      ['f', TWO_BRANCH.fusion],
    ] as const) {
      const want = norm(absProd(theta[k], g[k]));
      const got = result.scores.get(`altermoma:${name}`)!;
      want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
    }
  });

  it('AlterEva = DeCI − ReRI per group, fusion taking β/2 of each stage, matches a float64 reference', async () => {
    const result = await runPlugin(alterMoma({ ...options, alpha: 1, beta: 1 }), graph, {
      seed: SEED,
      steps: 0,
    });
    const deci = meanGrads(theta, D);
    const lidarMasked = reri('l');
    const cameraMasked = reri('c');
    const want = {
      c: norm(absProd(theta.c, deci.c)).map((v, i) => v - norm(lidarMasked.c.data)[i]),
      l: norm(absProd(theta.l, deci.l)).map((v, i) => v - norm(cameraMasked.l.data)[i]),
      f: norm(absProd(theta.f, deci.f)).map(
        (v, i) => v - 0.5 * norm(lidarMasked.f.data)[i] - 0.5 * norm(cameraMasked.f.data)[i],
      ),
    };
    for (const [k, name] of [
      ['c', TWO_BRANCH.camera],
      ['l', TWO_BRANCH.lidar],
      ['f', TWO_BRANCH.fusion],
    ] as const) {
      const got = result.scores.get(`altermoma:${name}`)!;
      want[k].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 4));
    }
    // The reactivation really moved something: ReRI is not all zero in any group.
    for (const m of [lidarMasked.c, lidarMasked.f, cameraMasked.l, cameraMasked.f])
      expect(Math.max(...m.data)).toBeGreaterThan(1e-3);
  });

  it('leaves the weights exactly as they were (reinitialisation after each stage)', async () => {
    const taskLoss = (outputs: Record<string, tf.Tensor>) =>
      tf.mean(tf.square(outputs[TWO_BRANCH.output])) as tf.Scalar;
    const pipeline = new Pipeline({
      seed: SEED,
      graph,
      stages: [{ name: 'test', steps: 0, data: syntheticData(graph), taskLoss }],
    }).use(alterMoma(options));
    const result = await pipeline.run();
    const init = ParamStore.init(graph, SEED);
    for (const name of init.names())
      expect([...result.params.get(name).dataSync()]).toEqual([...init.get(name).dataSync()]);
    init.dispose();
    result.params.dispose();
    for (const m of result.masks.params.values()) m.dispose();
  });
});

describe('alterEva', () => {
  it('normalizes each group by its own sums and gives fusion half of each stage', () => {
    const groupOf = new Map([
      ['c', 'camera'],
      ['l', 'lidar'],
      ['f', 'fusion'],
    ] as const);
    const s = alterEva({
      groupOf,
      deci: new Map([
        ['c', Float32Array.of(1, 3)],
        ['l', Float32Array.of(2, 2)],
        ['f', Float32Array.of(4, 0)],
      ]),
      reriLidarMasked: new Map([
        ['c', Float32Array.of(1, 1)],
        ['f', Float32Array.of(1, 3)],
      ]),
      reriCameraMasked: new Map([
        ['l', Float32Array.of(0, 5)],
        ['f', Float32Array.of(2, 2)],
      ]),
      alpha: 2,
      beta: 1,
    });
    // camera: 2·[1/4, 3/4] − [1/2, 1/2]; lidar: 2·[1/2, 1/2] − [0, 1]; fusion: 2·[1, 0] − ½[1/4, 3/4] − ½[1/2, 1/2]
    expect([...s.get('c')!]).toEqual([0, 1]);
    expect([...s.get('l')!]).toEqual([1, 0]);
    expect([...s.get('f')!]).toEqual([2 - 0.125 - 0.25, -0.375 - 0.25]);
  });

  it('leaves out a stage that did not run and treats an all-zero group as zero', () => {
    const s = alterEva({
      groupOf: new Map([['c', 'camera']]),
      deci: new Map([['c', Float32Array.of(0, 0)]]),
      alpha: 1,
      beta: 1,
    });
    expect([...s.get('c')!]).toEqual([0, 0]);
  });
});
