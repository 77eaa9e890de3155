import { OBJECT_SPECS, PART_INSET, buildParts, sampleSize, type ObjectKind } from './objects';
import { Rng } from './rng';

const KINDS = Object.keys(OBJECT_SPECS) as ObjectKind[];

describe('object models', () => {
  it('samples each size within ±10 % of the nominal size', () => {
    const rng = new Rng(11);
    for (const kind of KINDS) {
      for (let k = 0; k < 50; k++) {
        sampleSize(kind, rng).forEach((v, a) => {
          expect(v).toBeGreaterThanOrEqual(0.9 * OBJECT_SPECS[kind].size[a]);
          expect(v).toBeLessThan(1.1 * OBJECT_SPECS[kind].size[a]);
        });
      }
    }
  });

  it('builds 1–3 parts inside the label box, with the label box enclosing them up to the inset', () => {
    const rng = new Rng(5);
    for (const kind of KINDS) {
      const size = sampleSize(kind, rng);
      const parts = buildParts(kind, size, rng);
      expect(parts.length).toBeGreaterThanOrEqual(1);
      expect(parts.length).toBeLessThanOrEqual(3);
      const lo = [Infinity, Infinity, Infinity];
      const hi = [-Infinity, -Infinity, -Infinity];
      for (const p of parts) {
        for (let a = 0; a < 3; a++) {
          lo[a] = Math.min(lo[a], p.center[a] - p.size[a] / 2);
          hi[a] = Math.max(hi[a], p.center[a] + p.size[a] / 2);
        }
      }
      // x and y: symmetric within ±(half size − inset); z from the ground to the top minus the inset.
      expect(lo[0]).toBeGreaterThanOrEqual(-size[0] / 2 + PART_INSET - 1e-9);
      expect(hi[0]).toBeLessThanOrEqual(size[0] / 2 - PART_INSET + 1e-9);
      expect(hi[1]).toBeCloseTo(size[1] / 2 - PART_INSET, 9);
      expect(lo[2]).toBeGreaterThanOrEqual(0);
      expect(hi[2]).toBeCloseTo(size[2] - PART_INSET, 9);
    }
  });

  it('gives poles the pedestrian LiDAR footprint but a uniform grey', () => {
    const size: [number, number, number] = [0.7, 0.65, 1.75];
    const ped = buildParts('pedestrian', size, new Rng(1));
    const pole = buildParts('pole', size, new Rng(1));
    expect(pole.map((p) => [p.center, p.size, p.reflectivity])).toEqual(ped.map((p) => [p.center, p.size, p.reflectivity]));
    const grey = pole[0].albedo;
    expect(grey[0]).toBe(grey[1]);
    expect(grey[1]).toBe(grey[2]);
    pole.forEach((p) => expect(p.albedo).toEqual(grey));
    // Pedestrians wear two colours and show a skin-tone head.
    expect(ped[0].albedo).not.toEqual(ped[1].albedo);
    expect(ped[2].albedo[0]).toBeGreaterThan(ped[2].albedo[2]);
  });
});
