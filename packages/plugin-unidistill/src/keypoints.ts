import { BevzipError, ERROR_CODES, type BatchBox, type BevGridGeometry } from '@bevzip/ir';
import { drawGaussian, heatmapRadius } from '@bevzip/driving-data';

/** Keypoints per box: 4 corners, the centre, 4 edge midpoints. */
export const KEYPOINTS = 9;

type Footprint = Pick<BatchBox, 'x' | 'y' | 'length' | 'width' | 'yaw'>;

/**
 * The nine ego-frame BEV keypoints (x, y) of a box: corners c1..c4 clockwise from front-left
 * (+l/2, +w/2 in the box frame), the centre as their mean, then the midpoints of c1c2, c2c3, c3c4, c4c1.
 */
export function boxKeypoints(box: Footprint): [number, number][] {
  const c = Math.cos(box.yaw);
  const s = Math.sin(box.yaw);
  const [hl, hw] = [box.length / 2, box.width / 2];
  const corners = ([[hl, hw], [hl, -hw], [-hl, -hw], [-hl, hw]] as const).map(([a, b]): [number, number] => [box.x + c * a - s * b, box.y + s * a + c * b]);
  const mid = (p: [number, number], q: [number, number]): [number, number] => [(p[0] + q[0]) / 2, (p[1] + q[1]) / 2];
  const centre: [number, number] = [corners.reduce((t, p) => t + p[0], 0) / 4, corners.reduce((t, p) => t + p[1], 0) / 4];
  return [...corners, centre, mid(corners[0], corners[1]), mid(corners[1], corners[2]), mid(corners[2], corners[3]), mid(corners[3], corners[0])];
}

/** A BEV map's cell size in metres: the batch grid's extent over the map's rows and columns. */
export function mapCell(grid: BevGridGeometry, rows: number, cols: number): { row: number; col: number } {
  return { row: (grid.cell * grid.size[0]) / rows, col: (grid.cell * grid.size[1]) / cols };
}

/** Keypoints of a batch as `grid_sample` points, padded to the largest box count of a sample. */
export interface BatchKeypoints {
  /** [B, maxBoxes·9, 2]: (row, col) with cell centres at integers; padded boxes sit at (0, 0). */
  points: Float32Array;
  /** [B, maxBoxes]: 1 for a real box, 0 for padding. */
  valid: Float32Array;
  maxBoxes: number;
  /** Real boxes in the batch (N). */
  count: number;
}

/**
 * Every box's keypoints in the continuous cell coordinates of a [rows, cols] map over the batch
 * grid: u = (x − xmin)/s, so cell i spans [i, i+1) and its centre, i + 0.5, becomes point i.
 */
export function batchKeypoints(boxes: readonly (readonly Footprint[])[], map: { rows: number; cols: number }, grid: BevGridGeometry): BatchKeypoints {
  const maxBoxes = Math.max(0, ...boxes.map((b) => b.length));
  const B = boxes.length;
  const points = new Float32Array(B * maxBoxes * KEYPOINTS * 2);
  const valid = new Float32Array(B * maxBoxes);
  const s = mapCell(grid, map.rows, map.cols);
  let count = 0;
  boxes.forEach((sample, b) =>
    sample.forEach((box, k) => {
      valid[b * maxBoxes + k] = 1;
      count++;
      boxKeypoints(box).forEach(([x, y], i) => {
        const o = ((b * maxBoxes + k) * KEYPOINTS + i) * 2;
        points[o] = (x - grid.xmin) / s.row - 0.5;
        points[o + 1] = (y - grid.ymin) / s.col - 0.5;
      });
    }),
  );
  return { points, valid, maxBoxes, count };
}

/**
 * The response mask on a [rows, cols] head map, per sample: the max over boxes of a CenterPoint
 * Gaussian at the box's centre cell ⌊c⌋, radius max(minRadius, ⌊r(l/s, w/s, overlap)⌋), σ = (2r+1)/6,
 * drawn inside its (2r+1)² window. Boxes whose centre lies outside the map draw nothing. [B, rows, cols].
 */
export function gaussianMask(boxes: readonly (readonly Footprint[])[], head: { rows: number; cols: number }, grid: BevGridGeometry, o: { overlap: number; minRadius: number }): Float32Array {
  const { rows, cols } = head;
  const out = new Float32Array(boxes.length * rows * cols);
  const s = mapCell(grid, rows, cols);
  boxes.forEach((sample, b) => {
    const plane = out.subarray(b * rows * cols, (b + 1) * rows * cols);
    for (const box of sample) {
      const i = Math.floor((box.x - grid.xmin) / s.row);
      const j = Math.floor((box.y - grid.ymin) / s.col);
      if (i < 0 || j < 0 || i >= rows || j >= cols) continue;
      const r = heatmapRadius(box.length / s.row, box.width / s.col, o.overlap, o.minRadius);
      drawGaussian(plane, [rows, cols, 1], 0, i, j, r);
    }
  });
  return out;
}

/** The batch's boxes, checked against its size, or a clear error when the data source gives none. */
export function batchBoxes(boxes: readonly (readonly BatchBox[])[] | undefined, batchSize: number): readonly (readonly BatchBox[])[] {
  if (!boxes) throw new BevzipError(ERROR_CODES.BAD_FEED, 'unidistill: the batch carries no ground-truth boxes (Batch.boxes); UniDistill places its keypoints and masks on them, so use a data source that fills them');
  if (boxes.length !== batchSize) throw new BevzipError(ERROR_CODES.BAD_FEED, `unidistill: the batch has ${batchSize} samples but boxes for ${boxes.length}`);
  return boxes;
}
