import { BevzipError } from '@bevzip/ir';
import { CAMERA_CHANNELS, cameraCalib, type CameraCalibration, type CameraData } from '@bevzip/driving-data';
import { TINY_RIG } from '@bevzip/synthetic-scenes';
import {
  bevCellOf,
  camBevIndexFor,
  computeCamBevIndex,
  frustumAxes,
  frustumPointCount,
  evenlySpaced,
  fixedRigInputs,
} from './camera-geometry';
import { TINY_TASK_CONFIG as CFG } from './config';

const K50: CameraCalibration['intrinsic'] = [50, 0, 44, 0, 50, 16, 0, 0, 1];
const front: CameraCalibration = {
  calib: cameraCalib(0, 0, [1, 0, 1.6]),
  intrinsic: K50,
  width: 88,
  height: 32,
};
const left: CameraCalibration = {
  calib: cameraCalib(90, 0, [1, 0.7, 1.6]),
  intrinsic: K50,
  width: 88,
  height: 32,
};
const PER_CAM = 8 * 22 * 24;

function rigFrame(): { sampleToken: string; cameras: CameraData[] } {
  const cameras = TINY_RIG.cameras.map((c) => ({ ...c, image: new Uint8Array(88 * 32 * 3), timestamp: 0 }));
  return { sampleToken: 's0', cameras };
}

describe('camera geometry', () => {
  it('maps an ego point to the cell floor((p − min)/Δ) with row ↔ x and column ↔ y', () => {
    expect(bevCellOf(CFG, 0, 0, 0)).toBe(32 * 64 + 32);
    expect(bevCellOf(CFG, 10, 0, 0)).toBe(44 * 64 + 32);
    expect(bevCellOf(CFG, 0, 10, 0)).toBe(32 * 64 + 44);
    expect(bevCellOf(CFG, -25.6, -25.6, 0)).toBe(0);
    expect(bevCellOf(CFG, 25.599, 25.599, 0)).toBe(64 * 64 - 1);
    expect(bevCellOf(CFG, 25.6, 0, 0)).toBe(-1);
    expect(bevCellOf(CFG, 0, -25.7, 0)).toBe(-1);
    expect(bevCellOf(CFG, 0, 0, 10)).toBe(-1);
    expect(bevCellOf(CFG, 0, 0, -10)).toBe(32 * 64 + 32);
  });

  it('lays the frustum out as linspace columns and rows (plus the pixel offset) and 24 depth bins over [1, 37)', () => {
    expect(evenlySpaced(0, 87, 22)[21]).toBe(87);
    const { us, vs, depths } = frustumAxes(CFG);
    expect(us).toHaveLength(22);
    expect(us[0]).toBe(0.5);
    expect(us[1]).toBeCloseTo(87 / 21 + 0.5, 12);
    expect(vs).toHaveLength(8);
    expect(vs[7]).toBe(31.5);
    expect(depths).toHaveLength(24);
    expect(depths[0]).toBe(1);
    expect(depths[23]).toBe(35.5);
    expect(frustumPointCount(CFG)).toBe(25344);
  });

  it('puts hand-computed frustum points into the expected cells, in camera/row/column/depth order', () => {
    const idx = computeCamBevIndex([front, left], CFG);
    expect(idx).toHaveLength(2 * PER_CAM);
    // Front, row 0, column 0, depth bin 2: (u, v, d) = (0.5, 0.5, 4) → p_cam = (−3.48, −1.24, 4) →
    // ego (5, 3.48, 2.84) → cell (38, 36).
    expect(idx[2]).toBe(38 * 64 + 36);
    // Left (optical axis +y), row 7, column 21, depth bin 5: (87.5, 31.5, 8.5) → p_cam = (7.395, 2.635, 8.5)
    // → ego (8.395, 9.2, −1.035) → cell (42, 43).
    expect(idx[PER_CAM + (7 * 22 + 21) * 24 + 5]).toBe(42 * 64 + 43);
    // Same pixel at 35.5 m: ego (31.885, 36.2, −9.405) lies outside the grid.
    expect(idx[PER_CAM + (7 * 22 + 21) * 24 + 23]).toBe(-1);
  });

  it('sends each tiny-rig camera to its side of the ego and caches the index per calibration', () => {
    const frame = rigFrame();
    const idx = camBevIndexFor(frame, CFG);
    expect(idx).toHaveLength(25344);
    expect(camBevIndexFor(rigFrame(), CFG)).toBe(idx);
    const cells = (ch: (typeof CAMERA_CHANNELS)[number]): number[] => {
      const c = CAMERA_CHANNELS.indexOf(ch);
      return Array.from(idx.subarray(c * PER_CAM, (c + 1) * PER_CAM)).filter((v) => v >= 0);
    };
    const rows = (v: number[]) => v.map((n) => Math.floor(n / 64));
    const cols = (v: number[]) => v.map((n) => n % 64);
    expect(cells('CAM_FRONT').length).toBeGreaterThan(1000);
    expect(Math.min(...rows(cells('CAM_FRONT')))).toBeGreaterThanOrEqual(32);
    expect(Math.max(...rows(cells('CAM_BACK')))).toBeLessThanOrEqual(32);
    expect(Math.min(...cols(cells('CAM_FRONT_LEFT')))).toBeGreaterThanOrEqual(32);
    expect(Math.max(...cols(cells('CAM_FRONT_RIGHT')))).toBeLessThanOrEqual(32);
  });

  it('rejects a missing camera and a wrong image size with a BevzipError', () => {
    const frame = rigFrame();
    expect(() => camBevIndexFor({ ...frame, cameras: frame.cameras.slice(1) }, CFG)).toThrow(
      /expected one CAM_FRONT camera/,
    );
    expect(() => computeCamBevIndex([{ ...front, width: 176 }], CFG)).toThrow(BevzipError);
  });

  it('bakes a fixed rig into one batch-1 index, and refuses frames with another calibration by sample', () => {
    const frames = [rigFrame(), { ...rigFrame(), sampleToken: 's1' }];
    const baked = fixedRigInputs(frames, CFG).cam_bev_index;
    expect(baked.dims).toEqual([1, 25344]);
    expect(Array.from(baked.data)).toEqual(Array.from(camBevIndexFor(frames[0], CFG)));
    // The front camera of the third frame sits 2 m further forward.
    const moved = rigFrame();
    moved.sampleToken = 's2';
    const cam = moved.cameras.find((c) => c.channel === 'CAM_FRONT')!;
    moved.cameras = moved.cameras.map((c) => (c === cam ? { ...c, calib: cameraCalib(0, 0, [3, 0, 1.6]) } : c));
    expect(() => fixedRigInputs([...frames, moved], CFG)).toThrow(/sample s2 has another camera calibration than sample s0/);
    expect(() => fixedRigInputs([], CFG)).toThrow(BevzipError);
  });
});
