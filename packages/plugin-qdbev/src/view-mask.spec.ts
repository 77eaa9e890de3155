import type { CameraCalibration } from '@bevzip/ir';
import { cameraCalib, projectToCamera } from '@bevzip/driving-data';
import { TINY_RIG } from '@bevzip/synthetic-scenes';
import { cameraViewMask, projectEgoPoint } from './view-mask';

// A pinhole camera at the ego origin looking along +x: f = 8 px, principal point (10, 10), 20×20
// image, so a point (x, y, z) with x > 0 lands at u = 10 − 8y/x, v = 10 − 8z/x.
const K: CameraCalibration['intrinsic'] = [8, 0, 10, 0, 8, 10, 0, 0, 1];
const front: CameraCalibration = { calib: cameraCalib(0, 0, [0, 0, 0]), intrinsic: K, width: 20, height: 20 };
const back: CameraCalibration = { calib: cameraCalib(180, 0, [0, 0, 0]), intrinsic: K, width: 20, height: 20 };
// Rows x = −0.5, 0.5, 1.5, 2.5; columns y = −2.5 … 2.5; two pillar points at z = −1.5 and 0.5.
const grid = { xmin: -1, ymin: -3, cell: 1, size: [4, 6] as [number, number] };
const options = { zRange: [-2.5, 1.5] as [number, number], pillarPoints: 2 };

describe('cameraViewMask', () => {
  it('matches the cells a hand-built forward camera sees, averaged over the pillar points', () => {
    // v = 10 − 8z/x: z = 0.5 is in view for x > 0.4, z = −1.5 only for x > 1.2; u = 10 − 8y/x needs |y| < 1.25x.
    const want = [
      [0, 0, 0, 0, 0, 0], // behind the camera
      [0, 0, 0.5, 0.5, 0, 0], // |y| < 0.625, only the upper point
      [0, 1, 1, 1, 1, 0], // |y| < 1.875
      [1, 1, 1, 1, 1, 1], // |y| < 3.125
    ].flat();
    expect(Array.from(cameraViewMask([front], grid, options))).toEqual(want);
  });

  it('gives each camera its own plane: a rear camera sees the mirrored cells', () => {
    const mask = cameraViewMask([front, back], { xmin: -3, ymin: -3, cell: 1, size: [6, 6] }, options);
    const plane = (n: number) => Array.from(mask.slice(n * 36, (n + 1) * 36));
    const mirrored = plane(1).map((_, k) => plane(1)[35 - k]);
    expect(plane(0)).toEqual(mirrored);
    expect(plane(0).some((v) => v > 0)).toBe(true);
    expect(plane(0).slice(0, 18).every((v) => v === 0)).toBe(true);
  });

  it('covers every cell of the tiny rig grid near the car with at least one camera', () => {
    const cams = TINY_RIG.cameras;
    const g = { xmin: -25.6, ymin: -25.6, cell: 1.6, size: [32, 32] as [number, number] };
    const mask = cameraViewMask(cams, g);
    const cells = 32 * 32;
    let covered = 0;
    for (let p = 0; p < cells; p++) if (cams.some((_, n) => mask[n * cells + p] > 0)) covered++;
    expect(covered / cells).toBeGreaterThan(0.9);
    expect(mask.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('rejects a bad pillar point count and an empty height range with coded errors', () => {
    expect(() => cameraViewMask([front], grid, { pillarPoints: 0 })).toThrow(/pillarPoints must be a positive integer, got 0/);
    expect(() => cameraViewMask([front], grid, { zRange: [1, 1] })).toThrow(/zRange must be \[zmin, zmax\] with zmax > zmin/);
  });
});

describe('projectEgoPoint', () => {
  it('agrees with the data package projection on every camera of the tiny rig', () => {
    const points: [number, number, number][] = [[5, 1, 0.5], [-8, 3, -1], [2, -12, 2], [20, 20, 0], [0.3, -0.2, 1.1]];
    for (const cam of TINY_RIG.cameras) {
      for (const p of points) {
        const want = projectToCamera(cam, p, 1e-5);
        const got = projectEgoPoint(cam, p, 1e-5);
        got.forEach((v, k) => (Number.isNaN(want[k]) ? expect(v).toBeNaN() : expect(v).toBeCloseTo(want[k], 9)));
      }
    }
  });
});
