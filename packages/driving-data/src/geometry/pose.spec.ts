import {
  composePoses,
  invertPose,
  quatFromYaw,
  quatFromYawPitchRoll,
  quatYaw,
  rotateVector,
  transformPoint,
} from './pose';

describe('pose', () => {
  it('rotates +x by a quarter turn about z onto +y', () => {
    const v = rotateVector(quatFromYaw(Math.PI / 2), [1, 0, 0]);
    expect(v[0]).toBeCloseTo(0, 12);
    expect(v[1]).toBeCloseTo(1, 12);
    expect(v[2]).toBeCloseTo(0, 12);
  });

  it('recovers yaw from a yaw-pitch-roll quaternion', () => {
    expect(quatYaw(quatFromYawPitchRoll(0.7, -0.05, 0.02))).toBeCloseTo(0.7, 2);
    expect(quatYaw(quatFromYaw(-2.5))).toBeCloseTo(-2.5, 12);
  });

  it('inverts and composes poses consistently', () => {
    const a = { translation: [1, -2, 0.5] as [number, number, number], rotation: quatFromYawPitchRoll(0.3, 0.1, -0.2) };
    const b = { translation: [4, 0, -1] as [number, number, number], rotation: quatFromYaw(-1.1) };
    const p: [number, number, number] = [0.3, 2, -5];
    const viaCompose = transformPoint(composePoses(a, b), p);
    const stepwise = transformPoint(a, transformPoint(b, p));
    viaCompose.forEach((x, i) => expect(x).toBeCloseTo(stepwise[i], 12));
    const back = transformPoint(invertPose(a), transformPoint(a, p));
    back.forEach((x, i) => expect(x).toBeCloseTo(p[i], 12));
  });
});
