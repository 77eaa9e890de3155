import type { Box3D, Frame, Pose } from '../data/types';
import { egoDetectionToEvalBox, framesToGtEvalBoxes, gtBoxToEvalBox } from './box-convert';
import { quaternionYaw } from './box-errors';

const box: Box3D = {
  center: [103, 204, 1],
  size: [4.5, 1.9, 1.6],
  yaw: 0.3,
  velocity: [2, 1],
  detectionName: 'car',
  categoryName: 'vehicle.car',
  attributeName: 'vehicle.moving',
  numLidarPts: 12,
  visibility: 4,
  instanceId: 'i1',
};
// Ego at (100, 200) heading +90°: ego +x is global +y.
const ego: Pose = { translation: [100, 200, 0], rotation: [Math.SQRT1_2, 0, 0, Math.SQRT1_2] };

describe('gtBoxToEvalBox', () => {
  it('reorders size to [w, l, h], encodes yaw as a quaternion and measures the xy ego distance', () => {
    const e = gtBoxToEvalBox(box, 'tok', ego);
    expect(e.size).toEqual([1.9, 4.5, 1.6]);
    expect(quaternionYaw(e.rotation)).toBeCloseTo(0.3, 14);
    expect(e.egoDist).toBe(5); // (3, 4) from the ego
    expect(e.numPts).toBe(12);
    expect(e.detectionScore).toBe(-1);
  });
});

describe('egoDetectionToEvalBox', () => {
  it('moves centre, heading and velocity from the ego frame to the global frame', () => {
    const e = egoDetectionToEvalBox(
      {
        center: [4, -3, 1],
        size: [4.5, 1.9, 1.6],
        yaw: 0.1,
        velocity: [2, 0],
        detectionName: 'car',
        score: 0.7,
        attributeName: 'vehicle.moving',
      },
      'tok',
      ego,
    );
    // Rotating (4, −3) by +90° gives (3, 4).
    expect(e.translation[0]).toBeCloseTo(103, 12);
    expect(e.translation[1]).toBeCloseTo(204, 12);
    expect(quaternionYaw(e.rotation)).toBeCloseTo(Math.PI / 2 + 0.1, 12);
    expect(e.velocity[0]).toBeCloseTo(0, 12);
    expect(e.velocity[1]).toBeCloseTo(2, 12);
    expect(e.egoDist).toBeCloseTo(5, 12);
    expect(e.size).toEqual([1.9, 4.5, 1.6]);
    expect(e.numPts).toBe(-1);
  });
});

describe('framesToGtEvalBoxes', () => {
  const frame = (token: string, boxes: Box3D[]) =>
    ({ sampleToken: token, egoPose: ego, boxes }) as unknown as Frame;

  it('keeps every frame, with or without boxes, in order', () => {
    const g = framesToGtEvalBoxes([frame('a', [box]), frame('b', [])]);
    expect([...g.keys()]).toEqual(['a', 'b']);
    expect(g.get('a')![0].sampleToken).toBe('a');
    expect(g.get('b')).toEqual([]);
  });

  it('rejects a repeated sample token', () => {
    expect(() => framesToGtEvalBoxes([frame('a', []), frame('a', [])])).toThrow(
      /sample token a appears twice/,
    );
  });
});
