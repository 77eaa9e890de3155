import * as tf from '@tensorflow/tfjs';
import { cameraCalib } from '@bevzip/driving-data';
import { TINY_RIG } from '@bevzip/synthetic-scenes';
import type { CameraCalibration, SensorGeometry } from '@bevzip/ir';
import { batchViewMask } from './vgd-plugin';
import { cameraViewMask } from './view-mask';

const grid = { xmin: -25.6, ymin: -25.6, cell: 1.6, size: [32, 32] as const };
const cells = 32 * 32;
const rig: CameraCalibration[] = TINY_RIG.cameras.map(({ calib, intrinsic, width, height }) => ({ calib, intrinsic, width, height }));
// The same rig turned by 30° about the vertical axis, as another log's calibration might be.
const turned: CameraCalibration[] = rig.map((c, n) => ({ ...c, calib: cameraCalib(n * 60 + 30, 0, [...c.calib.translation] as [number, number, number]) }));

describe('batchViewMask', () => {
  it('gives each camera its own non-trivial plane', () => {
    const geometry: SensorGeometry = { cameras: [rig], grid };
    const mask = batchViewMask(geometry, cells, new Map(), {});
    const data = mask.dataSync();
    mask.dispose();
    const planes = rig.map((_, n) => Array.from(data.slice(n * cells, (n + 1) * cells)));
    expect(data.every((v) => v === 1)).toBe(false);
    for (const p of planes) expect(p.some((v) => v > 0) && p.some((v) => v === 0)).toBe(true);
    for (let a = 0; a < planes.length; a++) for (let b = a + 1; b < planes.length; b++) expect(planes[a]).not.toEqual(planes[b]);
  });

  it('projects each frame with its own calibration and caches a repeated rig', () => {
    const cache = new Map<string, Float32Array>();
    const before = tf.memory().numTensors;
    const mask = batchViewMask({ cameras: [rig, turned, rig], grid }, cells, cache, {});
    expect(mask.shape).toEqual([3, rig.length, cells]);
    const data = mask.dataSync();
    mask.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const frame = (b: number) => Array.from(data.slice(b * rig.length * cells, (b + 1) * rig.length * cells));
    expect(frame(0)).toEqual(Array.from(cameraViewMask(rig, grid)));
    expect(frame(1)).toEqual(Array.from(cameraViewMask(turned, grid)));
    expect(frame(1)).not.toEqual(frame(0));
    expect(frame(2)).toEqual(frame(0));
    expect(cache.size).toBe(2);
  });

  it('rejects a grid that does not match the BEV tap and samples with different camera counts', () => {
    expect(() => batchViewMask({ cameras: [rig], grid }, 100, new Map(), {})).toThrow(/BEV grid is 32×32, but the BEV tap has 100 cells/);
    expect(() => batchViewMask({ cameras: [rig, rig.slice(1)], grid }, cells, new Map(), {})).toThrow(/sample 1 of the batch has 5 cameras, sample 0 has 6/);
  });
});
