import { CURB_HEIGHT, MATERIAL, type RoadSegment } from './road';
import { buildBoxSet, castGround, castRay, newHit, slabTest } from './raycast';
import { RoadSurface } from './surface';
import type { SceneObject } from './world';

// Carriageway y ∈ [−3.5, 3.5] along x, sidewalks 2 m wide beyond, raised terrain further out.
const road: RoadSegment = {
  kind: 'line', origin: [0, 0], heading: 0, lanesLeft: 1, lanesRight: 1, laneWidth: 3.5, sidewalkWidth: 2,
  sMin: -100, sMax: 100, crossings: [], crossingWidth: 3,
};
const surface = new RoadSurface([road]);

function unit(x: number, y: number, z: number): [number, number, number] {
  const n = Math.hypot(x, y, z);
  return [x / n, y / n, z / n];
}

describe('ground ray casting', () => {
  it('hits the carriageway at z = 0 and a sidewalk on top of the curb', () => {
    const hit = newHit();
    expect(castGround(surface, 1, 1, 1.6, 0, 0, -1, hit)).toBe(true);
    expect(hit.t).toBeCloseTo(1.6, 12);
    expect(hit.material).toBe(MATERIAL.asphalt);
    expect(castGround(surface, 1, 4.5, 1.6, 0, 0, -1, hit)).toBe(true);
    expect(hit.t).toBeCloseTo(1.6 - CURB_HEIGHT, 12);
    expect(hit.material).toBe(MATERIAL.sidewalk);
  });

  it('hits the vertical curb face where a shallow ray reaches the edge between the levels', () => {
    // From (0, 0, 1.6) along (0, 3.5, −1.5): at y = 3.5 the ray is at z = 0.1, between 0 and 0.15.
    const [dx, dy, dz] = unit(0, 3.5, -1.5);
    const hit = newHit();
    expect(castGround(surface, 0, 0, 1.6, dx, dy, dz, hit)).toBe(true);
    expect(hit.t).toBeCloseTo(Math.hypot(3.5, 1.5), 2);
    expect(hit.material).toBe(MATERIAL.sidewalk);
    expect(hit.ny).toBeCloseTo(-1, 12);
    expect(hit.nz).toBe(0);
  });

  it('never hits the ground going up', () => {
    expect(castGround(surface, 0, 0, 1.6, 1, 0, 0.01, newHit())).toBe(false);
  });
});

describe('box ray casting', () => {
  it('enters a yawed box through the expected face', () => {
    // A 2×2×2 box at (5, 0, 1) yawed 90°: the ray along +x from (0, 0, 1) enters its face at x = 4.
    const data = Float64Array.of(5, 0, 1, Math.cos(Math.PI / 2), Math.sin(Math.PI / 2), 1, 1, 1);
    const hit = newHit();
    expect(slabTest(data, 0, 0, 0, 1, 1, 0, 0, hit)).toBeCloseTo(4, 12);
    expect(hit.nx).toBeCloseTo(-1, 12);
    expect(hit.ny).toBeCloseTo(0, 12);
    expect(slabTest(data, 0, 0, 1.5, 1, 1, 0, 0)).toBe(Infinity);
  });

  it('lets the nearer of a box and the ground win', () => {
    const obj: SceneObject = {
      kind: 'bin', label: null, categoryName: '', attributeName: '', size: [1, 1, 1], baseZ: 0, id: 0,
      motion: { kind: 'linear', x0: 6, y0: 0, vx: 0, vy: 0, yaw: 0 },
      parts: [{ center: [0, 0, 0.5], size: [1, 1, 1], albedo: [0.5, 0.5, 0.5], accent: [0.5, 0.5, 0.5], texture: 'plain', reflectivity: 0.2 }],
    };
    const boxes = buildBoxSet([obj], 0);
    const hit = newHit();
    // Towards the ground point (8, 0, 0) from (0, 0, 1.6): at x = 5.5 the ray is at z = 0.5, inside the box face.
    const [dx, dy, dz] = unit(8, 0, -1.6);
    castRay(surface, boxes, 0, 0, 1.6, dx, dy, dz, hit);
    expect(hit.object).toBe(0);
    expect(hit.t).toBeCloseTo(Math.hypot(5.5, 1.1), 9);
    // Steeper, the ray lands on the road at (4, 0, 0) before the box.
    const [ex, ey, ez] = unit(4, 0, -1.6);
    castRay(surface, boxes, 0, 0, 1.6, ex, ey, ez, hit);
    expect(hit.object).toBe(-1);
    expect(hit.t).toBeCloseTo(Math.hypot(4, 1.6), 9);
  });
});
