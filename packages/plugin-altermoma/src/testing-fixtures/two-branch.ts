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
    b.op('dense', [cam, b.param('w', [3, 2], { init: { kind: 'uniform', min: -1, max: 1 } })], {}, { name: 'fc' }),
  );
  const fl = b.scoped('lidar.backbone', { modality: 'lidar', stage: 'backbone' }, () =>
    b.op('dense', [lidar, b.param('w', [2, 2], { init: { kind: 'uniform', min: -1, max: 1 } })], {}, { name: 'fl' }),
  );
  const y = b.scoped('fuser', { modality: 'fusion', stage: 'encoder' }, () => {
    const h = b.op('concat', [fc, fl], { axis: -1 }, { name: 'cat' });
    return b.op('dense', [h, b.param('w', [4, 2], { init: { kind: 'uniform', min: -1, max: 1 } })], {}, { name: 'out' });
  });
  b.output(y);
  return b.build();
}

/** Param names of {@link twoBranchGraph}. */
export const TWO_BRANCH = { camera: 'camera.backbone.w', lidar: 'lidar.backbone.w', fusion: 'fuser.w', output: 'fuser.out' } as const;

/** Row-major matrix helpers in float64, for reference computations. */
export type Mat = { rows: number; cols: number; data: Float64Array };
export const mat = (rows: number, cols: number, data?: ArrayLike<number>): Mat => ({ rows, cols, data: data ? Float64Array.from(data) : new Float64Array(rows * cols) });
export function matmul(a: Mat, b: Mat): Mat {
  const out = mat(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++) for (let k = 0; k < a.cols; k++) for (let j = 0; j < b.cols; j++) out.data[i * b.cols + j] += a.data[i * a.cols + k] * b.data[k * b.cols + j];
  return out;
}
export function transpose(a: Mat): Mat {
  const out = mat(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out.data[j * a.rows + i] = a.data[i * a.cols + j];
  return out;
}
