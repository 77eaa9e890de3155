import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import {
  composePoses,
  encodePng,
  invertPose,
  transformPoint,
  type Box3D,
  type Frame,
} from '@bevzip/driving-data';
import { cameraContactSheet, hconcat, vconcat, bevPreview } from './contact-sheet';
import { POINT_STRIDE } from './lidar-render';
import { rectCorners } from './sat';
import { generateDataset, generateScene } from './scene';

function digest(frames: Frame[]): string {
  const h = createHash('sha256');
  for (const f of frames) {
    for (const cam of f.cameras) h.update(cam.image);
    h.update(new Uint8Array(f.lidar.points.buffer, f.lidar.points.byteOffset, f.lidar.points.byteLength));
    h.update(JSON.stringify({ boxes: f.boxes, ego: f.egoPose, token: f.sampleToken, t: f.timestamp }));
    f.map?.masks.forEach((m) => h.update(m));
  }
  return h.digest('hex');
}

type P = [number, number];
function segmentsCross(a: P, b: P, c: P, d: P): boolean {
  const orient = (p: P, q: P, r: P) => Math.sign((q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0]));
  return orient(a, b, c) * orient(a, b, d) < 0 && orient(c, d, a) * orient(c, d, b) < 0;
}
function insideConvex(p: P, poly: P[]): boolean {
  return poly.every((q, k) => {
    const r = poly[(k + 1) % poly.length];
    return (r[0] - q[0]) * (p[1] - q[1]) - (r[1] - q[1]) * (p[0] - q[0]) > 0;
  });
}
/** Brute-force footprint intersection: a corner inside the other, or crossing edges. */
function footprintsIntersect(a: Box3D, b: Box3D): boolean {
  const pa = rectCorners({ x: a.center[0], y: a.center[1], length: a.size[0], width: a.size[1], yaw: a.yaw });
  const pb = rectCorners({ x: b.center[0], y: b.center[1], length: b.size[0], width: b.size[1], yaw: b.yaw });
  if (pa.some((p) => insideConvex(p, pb)) || pb.some((p) => insideConvex(p, pa))) return true;
  return pa.some((p, i) => pb.some((q, j) => segmentsCross(p, pa[(i + 1) % 4], q, pb[(j + 1) % 4])));
}

describe('generateScene', () => {
  const start = Date.now();
  const scene = generateScene({ seed: 0, sceneIndex: 0, frames: 3 });
  const msPerFrame = (Date.now() - start) / 3;

  it('is byte-identical for the same seed and differs for another seed', () => {
    const again = generateScene({ seed: 0, sceneIndex: 0, frames: 3 });
    expect(digest(again)).toBe(digest(scene));
    expect(digest(generateScene({ seed: 1, sceneIndex: 0, frames: 3 }))).not.toBe(digest(scene));
    expect(digest(generateScene({ seed: 0, sceneIndex: 1, frames: 3, cameras: false }))).not.toBe(digest(scene));
  });

  it('keeps the layout stream independent of the condition stream', () => {
    const night = generateScene({ seed: 0, sceneIndex: 0, frames: 1, conditions: { lighting: 'night' }, cameras: false });
    expect(night[0].boxes.map((b) => b.center)).toEqual(scene[0].boxes.map((b) => b.center));
    expect(night[0].lidar.points).toEqual(scene[0].lidar.points);
  });

  it('produces frames in the shared Frame format with tiny-rig sensors and ego-frame map labels', () => {
    for (const [k, f] of scene.entries()) {
      expect(f.cameras.map((c) => c.channel)).toEqual(['CAM_FRONT', 'CAM_FRONT_RIGHT', 'CAM_FRONT_LEFT', 'CAM_BACK', 'CAM_BACK_LEFT', 'CAM_BACK_RIGHT']);
      f.cameras.forEach((c) => expect(c.image.length).toBe(32 * 88 * 3));
      expect(f.lidar.points.length % POINT_STRIDE).toBe(0);
      expect(f.lidar.points.length / POINT_STRIDE).toBeGreaterThan(5000);
      expect(f.timestamp - scene[0].timestamp).toBe(k * 500_000);
      expect(f.map?.masks).toHaveLength(2);
      expect(f.map?.masks[0].length).toBe(64 * 64);
      expect(f.egoPose.translation[2]).toBe(0);
    }
  });

  it('never lets two labelled footprints intersect, in any frame', () => {
    for (const f of scene) {
      for (let i = 0; i < f.boxes.length; i++) {
        for (let j = i + 1; j < f.boxes.length; j++) expect(footprintsIntersect(f.boxes[i], f.boxes[j])).toBe(false);
      }
    }
  });

  it('reports num_lidar_pts equal to a brute-force count of points in each global box', () => {
    for (const f of scene) {
      const lidarToGlobal = composePoses(f.egoPose, f.lidar.calib);
      const pts: [number, number, number][] = [];
      for (let p = 0; p < f.lidar.points.length; p += POINT_STRIDE) {
        pts.push(transformPoint(lidarToGlobal, [f.lidar.points[p], f.lidar.points[p + 1], f.lidar.points[p + 2]]));
      }
      for (const b of f.boxes) {
        const c = Math.cos(b.yaw);
        const s = Math.sin(b.yaw);
        const n = pts.filter(([x, y, z]) => {
          const dx = x - b.center[0];
          const dy = y - b.center[1];
          return Math.abs(c * dx + s * dy) <= b.size[0] / 2 && Math.abs(-s * dx + c * dy) <= b.size[1] / 2 && Math.abs(z - b.center[2]) <= b.size[2] / 2;
        }).length;
        expect(b.numLidarPts).toBe(n);
      }
      expect(f.boxes.some((b) => b.numLidarPts > 20)).toBe(true);
    }
  });

  it('keeps instances across frames and moves them by their velocity', () => {
    const byId = new Map(scene[0].boxes.map((b) => [b.instanceId, b]));
    for (const b of scene[2].boxes) {
      const a = byId.get(b.instanceId)!;
      expect(a).toBeDefined();
      // Straight-line movers match exactly; lane followers on curves differ from the chord by ≪ 1 cm/s.
      const vx = (b.center[0] - a.center[0]) / 1.0;
      const vy = (b.center[1] - a.center[1]) / 1.0;
      expect(Math.abs(vx - (a.velocity[0] + b.velocity[0]) / 2)).toBeLessThan(0.15);
      expect(Math.abs(vy - (a.velocity[1] + b.velocity[1]) / 2)).toBeLessThan(0.15);
      expect(b.attributeName).toBe(a.attributeName);
    }
  });

  it('keeps most labelled objects inside the BEV grid', () => {
    const toEgo = invertPose(scene[0].egoPose);
    const inGrid = scene[0].boxes.filter((b) => {
      const e = transformPoint(toEgo, b.center);
      return Math.abs(e[0]) < 25.6 && Math.abs(e[1]) < 25.6;
    });
    expect(inGrid.length).toBeGreaterThanOrEqual(8);
  });

  it('renders a frame with six cameras and the LiDAR in well under a second', () => {
    process.stdout.write(`synthetic frame: ${msPerFrame.toFixed(0)} ms\n`);
    expect(msPerFrame).toBeLessThan(1000);
  });

  it('streams datasets lazily, scene after scene', () => {
    const frames = [...generateDataset({ seed: 2, scenes: 2, framesPerScene: 2, cameras: false, mapGrid: null })];
    expect(frames.map((f) => f.sceneName)).toEqual(['synth-2-0000', 'synth-2-0000', 'synth-2-0001', 'synth-2-0001']);
    expect(new Set(frames.map((f) => f.sampleToken)).size).toBe(4);
  });

  it('writes a day and a night contact sheet when BEVZIP_PREVIEW_DIR is set', () => {
    const dir = process.env.BEVZIP_PREVIEW_DIR;
    const day = generateScene({ seed: 0, sceneIndex: 5, frames: 1, conditions: { lighting: 'day', fogDistance: 0 } })[0];
    const night = generateScene({ seed: 0, sceneIndex: 5, frames: 1, conditions: { lighting: 'night', fogDistance: 0 } })[0];
    const sheet = vconcat([hconcat([cameraContactSheet(day), bevPreview(day, 25.6, 5)]), hconcat([cameraContactSheet(night), bevPreview(night, 25.6, 5)])]);
    expect(sheet.width).toBe(3 * (88 * 4 + 2) + 4 + 256);
    const mean = (f: Frame) => f.cameras.reduce((s, c) => s + c.image.reduce((a, v) => a + v, 0) / c.image.length, 0) / 6;
    expect(mean(night)).toBeLessThan(0.6 * mean(day));
    if (dir) writeFileSync(`${dir}/synthetic-day-night.png`, encodePng(sheet));
  });
});
