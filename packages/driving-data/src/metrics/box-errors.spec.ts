import {
  angleDiff,
  attrAcc,
  centerDistance,
  cummean,
  quaternionYaw,
  scaleIou,
  velocityL2,
  yawDiff,
} from './box-errors';
import { specBox, type BoxSpec } from './testing/devkit-fixtures';

// Cases from the nuScenes devkit's `detection/tests/test_utils.py`.
const b = (s: BoxSpec) => specBox('s', s);
const yawQuat = (yaw: number): [number, number, number, number] => [
  Math.cos(yaw / 2),
  0,
  0,
  Math.sin(yaw / 2),
];
const axisQuat = (axis: [number, number, number], angle: number): [number, number, number, number] => [
  Math.cos(angle / 2),
  axis[0] * Math.sin(angle / 2),
  axis[1] * Math.sin(angle / 2),
  axis[2] * Math.sin(angle / 2),
];
const rad = (deg: number) => (deg / 180) * Math.PI;

describe('scaleIou', () => {
  it('compares sizes as aligned boxes', () => {
    expect(scaleIou(b({ size: [4, 4, 4] }), b({ size: [4, 4, 4] }))).toBe(1);
    expect(scaleIou(b({ size: [2, 2, 2] }), b({ size: [1, 1, 1] }))).toBe(1 / 8);
    expect(scaleIou(b({ size: [1, 1, 1] }), b({ size: [2, 2, 2] }))).toBe(1 / 8);
    expect(scaleIou(b({ size: [0.96, 0.37, 0.69] }), b({ size: [0.32, 0.01, 0.39] }))).toBeCloseTo(
      0.00509204,
      7,
    );
  });

  it('rejects empty or negative sizes', () => {
    expect(() => scaleIou(b({ size: [0, 4, 4] }), b({ size: [4, 4, 4] }))).toThrow(
      /ground-truth box .* size \[0, 4, 4\]/,
    );
    expect(() => scaleIou(b({ size: [0, 4, 4] }), b({ size: [4, 0, 4] }))).toThrow(/> 0/);
    expect(() => scaleIou(b({ size: [4, 4, 4] }), b({ size: [4, -5, 4] }))).toThrow(/predicted box/);
  });
});

describe('yawDiff', () => {
  it('is 0 for identical rotations and sees only the projected heading', () => {
    expect(yawDiff(b({ rot: yawQuat(Math.PI / 8) }), b({ rot: yawQuat(Math.PI / 8) }))).toBeCloseTo(0, 7);
    const pitched = axisQuat([0, 1, 0], Math.PI / 8);
    expect(yawDiff(b({ rot: yawQuat(Math.PI / 8) }), b({ rot: pitched }))).toBeCloseTo(Math.PI / 8, 7);
  });

  it('wraps yaws from −10 to 10 rad into [0, π]', () => {
    for (let i = 0; i < 100; i++) {
      const yaw = -10 + (20 * i) / 99;
      let expected = ((yaw % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
      if (expected > Math.PI) expected = 2 * Math.PI - expected;
      expect(yawDiff(b({ rot: yawQuat(0) }), b({ rot: yawQuat(yaw) }))).toBeCloseTo(expected, 7);
    }
    expect(yawDiff(b({ rot: yawQuat(1.1 * Math.PI) }), b({ rot: yawQuat(0.9 * Math.PI) }))).toBeCloseTo(
      0.2 * Math.PI,
      7,
    );
  });

  it('reads the yaw of a non-normalised quaternion and gives 0 for the zero quaternion', () => {
    expect(quaternionYaw([2 * Math.cos(0.3), 0, 0, 2 * Math.sin(0.3)])).toBeCloseTo(0.6, 14);
    expect(quaternionYaw([0, 0, 0, 0])).toBe(0);
  });
});

describe('angleDiff', () => {
  it.each([
    [90, 0, 360, 90],
    [90, 0, 180, 90],
    [90, 0, 90, 0],
    [0, 90, 90, 0],
    [0, 180, 180, 0],
    [0, 180, 360, 180],
    [0, 180 + 360 * 200, 360, 180],
  ])('|angleDiff(%d°, %d°, period %d°)| = %d°', (a, c, period, expected) => {
    expect(Math.abs(angleDiff(rad(a), rad(c), rad(period)))).toBeCloseTo(rad(expected), 7);
  });
});

describe('centerDistance and velocityL2', () => {
  it('measure xy distances and ignore z', () => {
    expect(centerDistance(b({ trans: [4, 4, 5] }), b({ trans: [4, 4, 5] }))).toBe(0);
    expect(centerDistance(b({ trans: [4, 4, 4] }), b({ trans: [3, 3, 3] }))).toBeCloseTo(Math.SQRT2, 14);
    expect(centerDistance(b({ trans: [-1, -1, -1] }), b({ trans: [1, 1, 1] }))).toBeCloseTo(Math.sqrt(8), 14);
    expect(centerDistance(b({ trans: [4.2, 2.8, 4.2] }), b({ trans: [-1.45, 3.5, 3.9] }))).toBeCloseTo(
      Math.sqrt((-1.45 - 4.2) ** 2 + (3.5 - 2.8) ** 2),
      14,
    );
    expect(velocityL2(b({ vel: [4, 4] }), b({ vel: [4, 4] }))).toBe(0);
    expect(velocityL2(b({ vel: [-1, -1] }), b({ vel: [1, 1] }))).toBeCloseTo(Math.sqrt(8), 14);
    expect(velocityL2(b({ vel: [8.2, 1.4] }), b({ vel: [6.4, -9.4] }))).toBeCloseTo(
      Math.sqrt(1.8 ** 2 + 10.8 ** 2),
      12,
    );
    expect(velocityL2(b({ vel: [NaN, NaN] }), b({ vel: [1, 1] }))).toBeNaN();
  });
});

describe('cummean', () => {
  it.each([
    [
      [NaN, 5],
      [0, 5],
    ],
    [
      [5, 2, NaN],
      [5, 3.5, 3.5],
    ],
    [
      [NaN, 4.5, NaN],
      [0, 4.5, 4.5],
    ],
    [
      [NaN, NaN, NaN, NaN],
      [1, 1, 1, 1],
    ],
    [[NaN], [1]],
    [[4], [4]],
    [
      [NaN, 3.58, 2.14, NaN, 9, 1.48, NaN],
      [0, 3.58, 2.86, 2.86, 4.906666, 4.05, 4.05],
    ],
  ])('cummean(%j) = %j', (x, expected) => {
    const got = Array.from(cummean(x));
    expect(got).toHaveLength(expected.length);
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
  });
});

describe('attrAcc', () => {
  it('is 1 for equal, 0 for different and NaN without a ground-truth attribute', () => {
    expect(attrAcc(b({ attr: 'vehicle.parked' }), b({ attr: 'vehicle.parked' }))).toBe(1);
    expect(attrAcc(b({ attr: 'vehicle.parked' }), b({ attr: 'vehicle.moving' }))).toBe(0);
    expect(attrAcc(b({ attr: '' }), b({ attr: 'vehicle.parked' }))).toBeNaN();
  });
});
