import { BevzipError, ERROR_CODES, type BevGridGeometry, type CameraCalibration } from '@bevzip/ir';
import { quatToMatrix } from '@bevzip/driving-data';

/** A host tensor as the bev-fusion batch carries its loss targets. */
interface HostTensor {
  data: Float32Array;
  shape: number[];
}

/** An ego-frame box recovered from the dense CenterPoint targets. */
export interface TargetBox {
  sample: number;
  classIndex: number;
  center: [number, number, number];
  /** l, w, h (m). */
  size: [number, number, number];
  yaw: number;
}

function hostTensor(v: unknown, path: string): HostTensor {
  const t = v as Partial<HostTensor> | undefined;
  if (!t || !(t.data instanceof Float32Array) || !Array.isArray(t.shape) || t.shape.length !== 4) {
    throw new BevzipError(ERROR_CODES.BAD_FEED, `x3kd: the batch's '${path}' must be a host tensor {data: Float32Array, shape: [B, H, W, C]} (CenterPoint targets), got ${t === undefined ? 'nothing' : typeof t}`);
  }
  return t as HostTensor;
}

/**
 * The ground-truth boxes behind a batch's dense targets: a cell with a regression target and a
 * heat-map value of exactly 1 is an object centre; reg holds [dx, dy, z, log l, log w, log h, sin, cos, …]
 * in head cells of `cell` metres from (xmin, ymin).
 */
export function boxesFromTargets(targets: unknown, grid: BevGridGeometry): TargetBox[] {
  const t = targets as Record<string, unknown> | undefined;
  const heat = hostTensor(t?.heatmap, 'targets.heatmap');
  const reg = hostTensor(t?.reg, 'targets.reg');
  const weight = hostTensor(t?.regWeight, 'targets.regWeight');
  const [B, H, W, K] = heat.shape;
  const R = reg.shape[3];
  if (R < 8) throw new BevzipError(ERROR_CODES.BAD_FEED, `x3kd: targets.reg has ${R} channels, expected at least 8 (dx, dy, z, log l, log w, log h, sin, cos)`);
  const cell = (grid.cell * grid.size[0]) / H;
  const out: TargetBox[] = [];
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const cellIndex = (b * H + i) * W + j;
        if (weight.data[cellIndex * R] === 0) continue;
        let classIndex = -1;
        for (let k = 0; k < K; k++) if (heat.data[cellIndex * K + k] === 1) classIndex = k;
        if (classIndex < 0) continue;
        const r = reg.data.subarray(cellIndex * R, cellIndex * R + R);
        out.push({
          sample: b,
          classIndex,
          center: [grid.xmin + (i + r[0]) * cell, grid.ymin + (j + r[1]) * cell, r[2]],
          size: [Math.exp(r[3]), Math.exp(r[4]), Math.exp(r[5])],
          yaw: Math.atan2(r[6], r[7]),
        });
      }
    }
  }
  return out;
}

/** The 8 ego-frame corners of a box. */
export function boxCorners(box: Pick<TargetBox, 'center' | 'size' | 'yaw'>): [number, number, number][] {
  const [cx, cy, cz] = box.center;
  const [l, w, h] = box.size;
  const c = Math.cos(box.yaw);
  const s = Math.sin(box.yaw);
  const out: [number, number, number][] = [];
  for (const dx of [-l / 2, l / 2]) for (const dy of [-w / 2, w / 2]) for (const dz of [-h / 2, h / 2]) out.push([cx + c * dx - s * dy, cy + s * dx + c * dy, cz + dz]);
  return out;
}

/** Ego point → (u, v, depth) in a camera's image; depth is along the optical axis. */
export function projectPoint(cam: CameraCalibration, p: readonly [number, number, number]): [number, number, number] {
  const R = quatToMatrix(cam.calib.rotation as [number, number, number, number]);
  const d = [p[0] - cam.calib.translation[0], p[1] - cam.calib.translation[1], p[2] - cam.calib.translation[2]];
  // p_sensor = Rᵀ (p_ego − t)
  const x = R[0] * d[0] + R[3] * d[1] + R[6] * d[2];
  const y = R[1] * d[0] + R[4] * d[1] + R[7] * d[2];
  const z = R[2] * d[0] + R[5] * d[1] + R[8] * d[2];
  const K = cam.intrinsic;
  const u = K[0] * x + K[1] * y + K[2] * z;
  const v = K[3] * x + K[4] * y + K[5] * z;
  const w = K[6] * x + K[7] * y + K[8] * z;
  return [u / w, v / w, z];
}

/** Convex hull (counter-clockwise, Andrew's monotone chain) of 2-D points. */
export function convexHull(points: [number, number][]): [number, number][] {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p;
  const cross = (o: [number, number], a: [number, number], b: [number, number]) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: [number, number][] = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper: [number, number][] = [];
  for (let i = p.length - 1; i >= 0; i--) {
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p[i]) <= 0) upper.pop();
    upper.push(p[i]);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

function insideHull(hull: [number, number][], x: number, y: number): boolean {
  if (hull.length < 3) return false;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i];
    const b = hull[(i + 1) % hull.length];
    if ((b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]) < 0) return false;
  }
  return true;
}

/** Per-PV-cell instance targets of one batch: class masks, centre offsets and the instance indicator. */
export interface InstanceTargets {
  /** [B·N, h, w, K]: 1 where the nearest instance covering the cell is of class k. */
  masks: Float32Array;
  /** [B·N, h, w, 2]: (projected centre − cell centre) in feature cells, inside instances. */
  offsets: Float32Array;
  /** [B·N, h, w, 1]. */
  inside: Float32Array;
  instances: number;
}

/**
 * Instance-segmentation targets on the PV feature grid: each box is projected into each camera
 * (skipped when a corner is nearer than `minDepth` to the image plane or behind it); a feature cell
 * whose centre lies in the convex hull of the projected corners belongs to that box, the box with the
 * nearest centre winning where boxes overlap.
 */
export function instanceTargets(boxes: readonly TargetBox[], cameras: readonly (readonly CameraCalibration[])[], feature: { h: number; w: number }, classes: number, minDepth: number): InstanceTargets {
  const n = cameras[0]?.length ?? 0;
  const { h, w } = feature;
  const views = cameras.length * n;
  const masks = new Float32Array(views * h * w * classes);
  const offsets = new Float32Array(views * h * w * 2);
  const inside = new Float32Array(views * h * w);
  const depth = new Float32Array(views * h * w).fill(Infinity);
  let instances = 0;
  for (const box of boxes) {
    const sample = cameras[box.sample];
    if (!sample) throw new BevzipError(ERROR_CODES.BAD_FEED, `x3kd: a target box belongs to sample ${box.sample}, but the batch geometry has ${cameras.length} samples`);
    const corners = boxCorners(box);
    sample.forEach((cam, c) => {
      const projected = corners.map((p) => projectPoint(cam, p));
      if (projected.some((q) => !(q[2] > minDepth))) return;
      const sx = w / cam.width;
      const sy = h / cam.height;
      const hull = convexHull(projected.map((q) => [q[0] * sx, q[1] * sy]));
      const [cu, cv, cz] = projectPoint(cam, box.center);
      let hit = false;
      for (let r = 0; r < h; r++) {
        for (let col = 0; col < w; col++) {
          if (!insideHull(hull, col + 0.5, r + 0.5)) continue;
          const o = (box.sample * n + c) * h * w + r * w + col;
          if (cz >= depth[o]) continue;
          depth[o] = cz;
          hit = true;
          masks.fill(0, o * classes, o * classes + classes);
          masks[o * classes + box.classIndex] = 1;
          offsets[o * 2] = cu * sx - (col + 0.5);
          offsets[o * 2 + 1] = cv * sy - (r + 0.5);
          inside[o] = 1;
        }
      }
      if (hit) instances++;
    });
  }
  return { masks, offsets, inside, instances };
}

/** X-OD pseudo-labels from the teacher heat map: Gaussian heat-map targets and per-cell box weights. */
export interface PseudoLabels {
  /** [B, H, W, K], 1 exactly at kept peaks. */
  heatmap: Float32Array;
  /** [B, H, W]: the weight of the box term at each kept peak's cell (its score, or 1), 0 elsewhere. */
  boxWeight: Float32Array;
  count: number;
}

/**
 * Keeps the teacher's heat-map peaks (3×3 local maxima over space, per class) with probability > τ,
 * renders a Gaussian of radius r (σ = (2r+1)/6, merged by max) for each, and weights the box term
 * at its cell by its probability when `confidenceWeighted` (the highest score at a shared cell wins).
 */
export function pseudoLabels(prob: Float32Array, shape: readonly number[], o: { threshold: number; radius: number; confidenceWeighted: boolean }): PseudoLabels {
  const [B, H, W, K] = shape;
  const heatmap = new Float32Array(prob.length);
  const boxWeight = new Float32Array(B * H * W);
  const sigma = (2 * o.radius + 1) / 6;
  let count = 0;
  const at = (b: number, i: number, j: number, k: number) => ((b * H + i) * W + j) * K + k;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        for (let k = 0; k < K; k++) {
          const s = prob[at(b, i, j, k)];
          if (!(s > o.threshold)) continue;
          let peak = true;
          for (let di = -1; di <= 1 && peak; di++) {
            for (let dj = -1; dj <= 1; dj++) {
              const ii = i + di;
              const jj = j + dj;
              if ((di || dj) && ii >= 0 && jj >= 0 && ii < H && jj < W && prob[at(b, ii, jj, k)] > s) {
                peak = false;
                break;
              }
            }
          }
          if (!peak) continue;
          count++;
          for (let di = -o.radius; di <= o.radius; di++) {
            for (let dj = -o.radius; dj <= o.radius; dj++) {
              const ii = i + di;
              const jj = j + dj;
              if (ii < 0 || jj < 0 || ii >= H || jj >= W) continue;
              const g = di === 0 && dj === 0 ? 1 : Math.exp(-(di * di + dj * dj) / (2 * sigma * sigma));
              const idx = at(b, ii, jj, k);
              if (g > heatmap[idx]) heatmap[idx] = g;
            }
          }
          const wv = o.confidenceWeighted ? s : 1;
          const c = (b * H + i) * W + j;
          if (wv > boxWeight[c]) boxWeight[c] = wv;
        }
      }
    }
  }
  return { heatmap, boxWeight, count };
}
