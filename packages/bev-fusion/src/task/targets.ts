import { BevzipError, ERROR_CODES } from '@bevzip/ir';
import { boxGlobalToEgo, type BevGrid, type Box3D, type Frame, type MapLabels } from '@bevzip/driving-data';
import { headGrid, REG_CHANNELS, type TaskConfig } from './config';
import { drawGaussian, heatmapRadius } from './gaussian';

const R = REG_CHANNELS.length;

/** A ground-truth box as the detection head sees it: ego frame, class index, head cell. */
export interface TargetBox {
  box: Box3D;
  classIndex: number;
  /** Continuous head-grid coordinates c = (p − min)/(Δ·s) along x (row) and y (column). */
  cx: number;
  cy: number;
  /** ⌊c⌋: the centre cell. */
  i: number;
  j: number;
}

/** CenterPoint detection targets of one sample on the head grid [Hh, Wh] (NHWC, row i ↔ x). */
export interface DetectionTargets {
  /** [Hh, Wh, K] Gaussian heat map, 1 exactly at each object's centre cell. */
  heatmap: Float32Array;
  /** [Hh, Wh, 10]: [c − ind (2), z, log l, log w, log h, sin yaw, cos yaw, vx, vy] at centre cells. */
  reg: Float32Array;
  /** [Hh, Wh, 10]: 1 where `reg` holds a target component (a NaN velocity gets 0), else 0. */
  regWeight: Float32Array;
  /** Cells carrying a regression target (objects, counting a shared centre cell once). */
  numObjects: number;
  /** The boxes that produced targets, in input order. */
  boxes: TargetBox[];
}

/** A frame's ground-truth boxes in its ego frame (devkit `get_sample_data` without the sensor step). */
export function egoBoxes(frame: Pick<Frame, 'boxes' | 'egoPose'>): Box3D[] {
  return frame.boxes.map((b) => boxGlobalToEgo(b, frame.egoPose));
}

/**
 * Boxes of the configured classes with at least `targets.minLidarPoints` LiDAR points whose centre
 * lies inside the head grid, with their head cells.
 */
export function selectTargetBoxes(
  boxes: readonly Box3D[],
  cfg: Pick<TaskConfig, 'classes' | 'grid' | 'headStride' | 'targets'>,
): TargetBox[] {
  const g = headGrid(cfg);
  const out: TargetBox[] = [];
  for (const box of boxes) {
    const classIndex = cfg.classes.indexOf(box.detectionName);
    if (classIndex < 0 || box.numLidarPts < cfg.targets.minLidarPoints) continue;
    const cx = (box.center[0] - g.xmin) / g.cell;
    const cy = (box.center[1] - g.ymin) / g.cell;
    const i = Math.floor(cx);
    const j = Math.floor(cy);
    if (i < 0 || j < 0 || i >= g.size[0] || j >= g.size[1]) continue;
    out.push({ box, classIndex, cx, cy, i, j });
  }
  return out;
}

/**
 * CenterPoint targets from ego-frame boxes: a Gaussian per object of radius
 * max(minRadius, ⌊r(l/(Δs), w/(Δs))⌋) at its centre cell (merged by max), and regression targets at
 * that cell. When two objects share a centre cell the first one keeps the regression target, since
 * a dense target holds one value per cell.
 */
export function buildDetectionTargets(
  boxes: readonly Box3D[],
  cfg: Pick<TaskConfig, 'classes' | 'grid' | 'headStride' | 'targets'>,
): DetectionTargets {
  const g = headGrid(cfg);
  const [rows, cols] = g.size;
  const k = cfg.classes.length;
  const heatmap = new Float32Array(rows * cols * k);
  const reg = new Float32Array(rows * cols * R);
  const regWeight = new Float32Array(rows * cols * R);
  const selected = selectTargetBoxes(boxes, cfg);
  let numObjects = 0;
  for (const t of selected) {
    const [l, w, h] = t.box.size;
    const radius = heatmapRadius(l / g.cell, w / g.cell, cfg.targets.minOverlap, cfg.targets.minRadius);
    drawGaussian(heatmap, [rows, cols, k], t.classIndex, t.i, t.j, radius);
    const o = (t.i * cols + t.j) * R;
    if (regWeight[o] !== 0) continue;
    const [vx, vy] = t.box.velocity;
    const values = [
      t.cx - t.i,
      t.cy - t.j,
      t.box.center[2],
      Math.log(l),
      Math.log(w),
      Math.log(h),
      Math.sin(t.box.yaw),
      Math.cos(t.box.yaw),
      vx,
      vy,
    ];
    for (let c = 0; c < R; c++) {
      const finite = Number.isFinite(values[c]);
      reg[o + c] = finite ? values[c] : 0;
      regWeight[o + c] = finite ? 1 : 0;
    }
    numObjects++;
  }
  return { heatmap, reg, regWeight, numObjects, boxes: selected };
}

function sameGrid(a: BevGrid, b: BevGrid): boolean {
  const eps = 1e-9;
  return (
    Math.abs(a.xmin - b.xmin) < eps &&
    Math.abs(a.ymin - b.ymin) < eps &&
    Math.abs(a.cell - b.cell) < eps &&
    a.size[0] === b.size[0] &&
    a.size[1] === b.size[1]
  );
}

/**
 * Map-head targets [mH, mW, K_map] (NHWC, 0/1) from a frame's map labels, classes picked by name in
 * `mapClasses` order. When the label grid differs from `mapGrid` each target cell takes the label
 * cell under its centre (nearest), and cells outside the label grid are 0.
 * @throws BevzipError (E_BAD_FEED) naming the class when the labels lack one.
 */
export function buildMapTargets(
  map: MapLabels,
  cfg: Pick<TaskConfig, 'mapClasses' | 'mapGrid'>,
  sampleToken = '?',
): Float32Array {
  const g = cfg.mapGrid;
  const [rows, cols] = g.size;
  const k = cfg.mapClasses.length;
  const out = new Float32Array(rows * cols * k);
  const src: BevGrid = { xmin: map.xmin, ymin: map.ymin, cell: map.cell, size: map.size };
  const same = sameGrid(src, g);
  cfg.mapClasses.forEach((name, c) => {
    const m = map.classes.indexOf(name);
    if (m < 0) {
      throw new BevzipError(
        ERROR_CODES.BAD_FEED,
        `sample ${sampleToken}: map labels have no class '${name}' (have ${map.classes.join(', ')})`,
      );
    }
    const mask = map.masks[m];
    for (let i = 0; i < rows; i++) {
      const si = same ? i : Math.floor((g.xmin + (i + 0.5) * g.cell - src.xmin) / src.cell);
      if (si < 0 || si >= src.size[0]) continue;
      for (let j = 0; j < cols; j++) {
        const sj = same ? j : Math.floor((g.ymin + (j + 0.5) * g.cell - src.ymin) / src.cell);
        if (sj < 0 || sj >= src.size[1]) continue;
        out[(i * cols + j) * k + c] = mask[si * src.size[1] + sj] ? 1 : 0;
      }
    }
  });
  return out;
}
