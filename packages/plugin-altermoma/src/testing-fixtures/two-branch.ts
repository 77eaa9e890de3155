import { GraphBuilder, type Graph } from '@bevzip/ir';

/**
 * A linear two-branch fusion toy: camera [B, 3] · Wc [3, 2] and LiDAR [B, 2] · Wl [2, 2], concatenated
 * and fused by Wf [4, 2]. Linear, so its gradients are easy to write out in float64.
 */
export function twoBranchGraph(): Graph {
  const b = new GraphBuilder('two-branch');
  const cam = b.input('cam', [-1, 3]);
  const lidar = b.input('lidar', [-1, 2]);
  const fc = b.scoped('camera.backbone', { modality: 'camera', stage: 'backbone' }, () =>
    b.op(
      'dense',
      [cam, b.param('w', [3, 2], { init: { kind: 'uniform', min: -1, max: 1 } })],
      {},
      { name: 'fc' },
    ),
  );
  const fl = b.scoped('lidar.backbone', { modality: 'lidar', stage: 'backbone' }, () =>
    b.op(
      'dense',
      [lidar, b.param('w', [2, 2], { init: { kind: 'uniform', min: -1, max: 1 } })],
      {},
      { name: 'fl' },
    ),
  );
  const y = b.scoped('fuser', { modality: 'fusion', stage: 'encoder' }, () => {
    const h = b.op('concat', [fc, fl], { axis: -1 }, { name: 'cat' });
    return b.op(
      'dense',
      [h, b.param('w', [4, 2], { init: { kind: 'uniform', min: -1, max: 1 } })],
      {},
      { name: 'out' },
    );
  });
  b.output(y);
  return b.build();
}

/** Param names of {@link twoBranchGraph}. */
export const TWO_BRANCH = {
  camera: 'camera.backbone.w',
  lidar: 'lidar.backbone.w',
  fusion: 'fuser.w',
  output: 'fuser.out',
} as const;

/** Row-major matrix helpers in float64, for reference computations. */
export type Mat = { rows: number; cols: number; data: Float64Array };
export const mat = (rows: number, cols: number, data?: ArrayLike<number>): Mat => ({
  rows,
  cols,
  data: data ? Float64Array.from(data) : new Float64Array(rows * cols),
});
export function matmul(a: Mat, b: Mat): Mat {
  const out = mat(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++)
    for (let k = 0; k < a.cols; k++)
      for (let j = 0; j < b.cols; j++)
        out.data[i * b.cols + j] += a.data[i * a.cols + k] * b.data[k * b.cols + j];
  return out;
}
export function transpose(a: Mat): Mat {
  const out = mat(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++)
    for (let j = 0; j < a.cols; j++) out.data[j * a.rows + i] = a.data[i * a.cols + j];
  return out;
}

/**
 * camera conv 3→6 → BN → ReLU → conv 6→5 → BN → ReLU, LiDAR dense 2→4 → ReLU, both pooled into
 * a fusion conv (concat 9 → 4) → ReLU → output conv 4→2: channels to remove in every group.
 */
export function channelGraph(): Graph {
  const b = new GraphBuilder('channels');
  const image = b.input('image', [-1, 6, 6, 3]);
  const points = b.input('points', [-1, 6, 6, 2]);
  const bn = (name: string, x: string, c: number) =>
    b.op(
      'batchnorm',
      [
        x,
        b.param(`${name}.gamma`, [c], { role: 'norm', init: { kind: 'uniform', min: 0.5, max: 1.5 } }),
        b.param(`${name}.beta`, [c], { role: 'norm', init: { kind: 'uniform', min: -0.5, max: 0.5 } }),
        b.param(`${name}.mean`, [c], { role: 'state', init: { kind: 'uniform', min: -0.2, max: 0.2 } }),
        b.param(`${name}.var`, [c], { role: 'state', init: { kind: 'uniform', min: 0.5, max: 1.5 } }),
      ],
      {},
      { name },
    );
  const conv = (name: string, x: string, cin: number, cout: number) =>
    b.op(
      'conv2d',
      [
        x,
        b.param(`${name}.weight`, [3, 3, cin, cout], { init: { kind: 'heNormal' } }),
        b.param(`${name}.bias`, [cout], { role: 'bias', init: { kind: 'uniform', min: -0.3, max: 0.3 } }),
      ],
      {},
      { name },
    );
  const cam = b.scoped('camera.backbone', { modality: 'camera', stage: 'backbone' }, () => {
    const a = b.op('relu', [bn('bn1', conv('conv1', image, 3, 6), 6)]);
    return b.op('relu', [bn('bn2', conv('conv2', a, 6, 5), 5)]);
  });
  const lid = b.scoped('lidar.backbone', { modality: 'lidar', stage: 'backbone' }, () =>
    b.op('relu', [
      b.op(
        'dense',
        [points, b.param('pfn.weight', [2, 4], { init: { kind: 'heNormal' } })],
        {},
        { name: 'pfn' },
      ),
    ]),
  );
  const y = b.scoped('fuser', { modality: 'fusion', stage: 'encoder' }, () => {
    const f = b.op('relu', [conv('fuse', b.op('concat', [cam, lid], { axis: -1 }), 9, 4)]);
    return conv('head', f, 4, 2);
  });
  b.output(y);
  return b.build();
}
