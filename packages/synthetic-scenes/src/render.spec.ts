import { transformPoint } from '@bevzip/driving-data';
import type { SceneConditions } from './conditions';
import { renderFrame } from './frame-render';
import { POINT_STRIDE } from './lidar-render';
import type { RoadSegment } from './road';
import { TINY_RIG } from './rig';
import { Rng } from './rng';
import { RoadSurface } from './surface';
import type { SceneObject, World } from './world';

const ROAD: RoadSegment = {
  kind: 'line', origin: [0, 0], heading: 0, lanesLeft: 2, lanesRight: 2, laneWidth: 3.5, sidewalkWidth: 2,
  sMin: -200, sMax: 200, crossings: [], crossingWidth: 3,
};

const CLEAR_DAY: SceneConditions = {
  lighting: 'day', fogDistance: 0, sunAzimuth: Math.PI, sunElevation: 0.5, cameraNoise: 0,
  lidarDropout: 0, lidarFovDeg: 180, lidarSparse: false, objectPointDrop: 0,
};

/** A static red 2×2×1.5 m box standing on the road with its centre at (10, 0). */
function boxWorld(): World {
  const box: SceneObject = {
    kind: 'car', label: 'car', categoryName: 'vehicle.car', attributeName: 'vehicle.parked',
    size: [2, 2, 1.5], baseZ: 0, id: 0,
    motion: { kind: 'linear', x0: 10, y0: 0, vx: 0, vy: 0, yaw: 0 },
    parts: [{ center: [0, 0, 0.75], size: [2, 2, 1.5], albedo: [0.9, 0.1, 0.1], accent: [0.9, 0.1, 0.1], texture: 'plain', reflectivity: 0.5 }],
  };
  return { surface: new RoadSurface([ROAD]), objects: [box], ego: { kind: 'linear', x0: 0, y0: 0, vx: 0, vy: 0, yaw: 0 }, template: 'test' };
}

function render() {
  return renderFrame({ world: boxWorld(), time: 0, rig: TINY_RIG, conditions: CLEAR_DAY, textureSeed: 1, lidarRng: new Rng(5), cameraRng: null });
}

describe('renderFrame on a hand-built world', () => {
  const frame = render();
  const points = frame.lidarPoints;
  const egoPoints: [number, number, number, number][] = [];
  for (let p = 0; p < points.length; p += POINT_STRIDE) {
    const e = transformPoint(TINY_RIG.lidar.calib, [points[p], points[p + 1], points[p + 2]]);
    egoPoints.push([e[0], e[1], e[2], points[p + 4]]);
  }

  it('returns LiDAR points on the box front face from the beams that geometry predicts', () => {
    // Sensor at (0.94, 0, 1.84); the front face x = 9 spans z ∈ [0, 1.5], |y| ≤ 1. Beams of elevation
    // atan((z − 1.84)/8.06) ∈ [−12.86°, −2.41°] hit it: −30.67° + 1.333°·b for b = 14 … 21. The top face
    // (z = 1.5, x ≤ 11) needs elevations in [−2.41°, −1.94°], between beams 21 (−2.67°) and 22 (−1.33°).
    const onBox = egoPoints.filter(([x, y, z]) => Math.abs(x - 9) < 0.1 && Math.abs(y) <= 1 && z >= 0 && z <= 1.5);
    const rings = [...new Set(onBox.map((p) => p[3]))].sort((a, b) => a - b);
    expect(rings).toEqual([14, 15, 16, 17, 18, 19, 20, 21]);
    // Azimuths within ±atan(1/8.06) = ±7.07° at 0.5° steps: 28 or 29 per beam.
    for (const ring of rings) {
      const n = onBox.filter((p) => p[3] === ring).length;
      expect(n).toBeGreaterThanOrEqual(27);
      expect(n).toBeLessThanOrEqual(29);
    }
    // Nothing is returned from behind the box's front face in its shadow.
    expect(egoPoints.filter(([x, y, z]) => x > 9.2 && x < 20 && Math.abs(y) < 0.5 && z < 1)).toHaveLength(0);
  });

  it('counts the points inside the label box like a brute-force loop', () => {
    const inside = egoPoints.filter(([x, y, z]) => Math.abs(x - 10) <= 1 && Math.abs(y) <= 1 && z >= 0 && z <= 1.5).length;
    expect(frame.boxes).toHaveLength(1);
    expect(frame.boxes[0].numLidarPts).toBe(inside);
    expect(inside).toBeGreaterThan(100);
  });

  it('draws the box where the front camera projects it', () => {
    // CAM_FRONT at (1.7, 0, 1.6) tilted 3° down: forward f = (cos3°, 0, −sin3°), down = (−sin3°, 0, −cos3°),
    // right = (0, −1, 0); f_x = f_y = 44/tan 35° = 62.84, c = (44, 16).
    const f = 44 / Math.tan((35 * Math.PI) / 180);
    const c3 = Math.cos((3 * Math.PI) / 180);
    const s3 = Math.sin((3 * Math.PI) / 180);
    const project = (x: number, y: number, z: number): [number, number] => {
      const [dx, dy, dz] = [x - 1.7, y, z - 1.6];
      const depth = dx * c3 - dz * s3;
      return [44 + (f * -dy) / depth, 16 + (f * (-dx * s3 - dz * c3)) / depth];
    };
    const front = frame.images.find((im) => im.channel === 'CAM_FRONT')!.image;
    const px = (u: number, v: number) => Array.from(front.subarray((v * 88 + u) * 3, (v * 88 + u) * 3 + 3));
    const isRed = ([r, g, b]: number[]) => r > 100 && r > 2.5 * g && r > 2.5 * b;
    // Front face corners: (9, ±1, 0) and (9, ±1, 1.5); far top edge (11, ·, 1.5).
    const [uLeft, vBottom] = project(9, 1, 0);
    const [uRight] = project(9, -1, 0);
    const [, vTop] = project(11, 0, 1.5);
    expect(uLeft).toBeCloseTo(35.43, 1);
    expect(uRight).toBeCloseTo(52.57, 1);
    expect(vBottom).toBeCloseTo(26.36, 1);
    expect(vTop).toBeCloseTo(13.38, 1);
    const [uc, vc] = project(9, 0, 0.75);
    expect(isRed(px(Math.floor(uc), Math.floor(vc)))).toBe(true);
    for (const [u, v] of [[36, 14], [51, 14], [36, 25], [51, 25]]) expect(isRed(px(u, v))).toBe(true);
    for (const [u, v] of [[34, 20], [53, 20], [44, 12], [44, 27]]) expect(isRed(px(u, v))).toBe(false);
    // Sky above the horizon is bluish; no other camera sees the box.
    const [r, , b] = px(44, 2);
    expect(b).toBeGreaterThan(r);
    for (const im of frame.images.filter((x) => x.channel !== 'CAM_FRONT')) {
      let red = 0;
      for (let k = 0; k < im.image.length; k += 3) if (isRed(Array.from(im.image.subarray(k, k + 3)))) red++;
      expect(red).toBe(0);
    }
  });

  it('rates a fully visible box at visibility level 4', () => {
    expect(frame.boxes[0].visibility).toBe(4);
  });
});
