import { rasterizeMap } from './map-raster';
import type { RoadSegment } from './road';
import { TINY_BEV_GRID } from './rig';
import { RoadSurface } from './surface';

/** A straight two-lane road along +x whose centre line is at y = 1.0 (scene frame). */
function straightRoad(heading = 0, origin: [number, number] = [0, 1]): RoadSegment {
  return {
    kind: 'line', origin, heading, lanesLeft: 1, lanesRight: 1, laneWidth: 3.5, sidewalkWidth: 2,
    sMin: -200, sMax: 200, crossings: [], crossingWidth: 3,
  };
}

function onCells(mask: Uint8Array, cols: number): [number, number][] {
  const out: [number, number][] = [];
  mask.forEach((v, k) => v && out.push([Math.floor(k / cols), k % cols]));
  return out;
}

describe('rasterizeMap', () => {
  const grid = TINY_BEV_GRID;

  it('marks the cells of a straight road along x by column (j ↔ y) with ≥ 50 % coverage', () => {
    const map = rasterizeMap(new RoadSurface([straightRoad()]), { x: 0, y: 0, yaw: 0 }, grid);
    const [drivable, divider] = map.masks;
    // Carriageway y ∈ [−2.5, 4.5]. Cell j spans [−25.6 + 0.8j, −24.8 + 0.8j) with samples at +0.2, +0.6:
    // j = 28 ([−3.2, −2.4)) has none inside; j = 29 both; j = 37 ([4.0, 4.8)) has 4.2 only: 50 % → on.
    const expectedCols = [29, 30, 31, 32, 33, 34, 35, 36, 37];
    for (let i = 0; i < 64; i++) {
      const cols = [...Array(64).keys()].filter((j) => drivable[i * 64 + j]);
      expect(cols).toEqual(expectedCols);
    }
    // Lines at y = 1.0 (centre) and 1.0 ± 3.2 (edge lines 0.3 m inside the edges):
    // floor((y + 25.6)/0.8) = floor(33.25) = 33, floor(29.25) = 29, floor(37.25) = 37.
    for (let i = 0; i < 64; i++) {
      const cols = [...Array(64).keys()].filter((j) => divider[i * 64 + j]);
      expect(cols).toEqual([29, 33, 37]);
    }
  });

  it('maps rows to x: a road along y through x = 5 fills rows of x ∈ [1.5, 8.5]', () => {
    // Heading +90°: lat = −(x − 5), so the carriageway is x ∈ [1.5, 8.5].
    const map = rasterizeMap(new RoadSurface([straightRoad(Math.PI / 2, [5, 0])]), { x: 0, y: 0, yaw: 0 }, grid);
    const rows = new Set(onCells(map.masks[0], 64).map(([i]) => i));
    // Row i spans [−25.6 + 0.8i, −24.8 + 0.8i): row 33 ([0.8, 1.6)) samples 1.0 and 1.4, both < 1.5 → off;
    // row 34 ([1.6, 2.4)) is full; row 42 ([8.0, 8.8)) has 8.2 inside and 8.6 outside → 50 % → on.
    expect([...rows].sort((a, b) => a - b)).toEqual([34, 35, 36, 37, 38, 39, 40, 41, 42]);
    expect(onCells(map.masks[0], 64).length).toBe(9 * 64);
  });

  it('rasterises in the ego frame: rotating the ego by 90° turns the road into rows', () => {
    // Ego at (0, 1) heading scene +y, so ego x = scene y − 1 and the carriageway covers ego x ∈ [−3.5, 3.5]:
    // rows 27 ([−4.0, −3.2), sample −3.4 inside) to 36 ([3.2, 4.0), sample 3.4 inside).
    const map = rasterizeMap(new RoadSurface([straightRoad()]), { x: 0, y: 1, yaw: Math.PI / 2 }, grid);
    const rows = [...new Set(onCells(map.masks[0], 64).map(([i]) => i))].sort((a, b) => a - b);
    expect(rows).toEqual([27, 28, 29, 30, 31, 32, 33, 34, 35, 36]);
  });

  it('marks zebra crossings when ped_crossing is requested', () => {
    const road = { ...straightRoad(), crossings: [10], crossingWidth: 3 };
    const map = rasterizeMap(new RoadSurface([road]), { x: 0, y: 0, yaw: 0 }, grid, ['drivable_area', 'divider', 'ped_crossing']);
    const rows = [...new Set(onCells(map.masks[2], 64).map(([i]) => i))].sort((a, b) => a - b);
    // Crossing x ∈ (8.5, 11.5): rows 42 ([8.0, 8.8), sample 8.6 in) … 45 ([10.4, 11.2)); row 46 ([11.2, 12.0)) has 11.4 in.
    expect(rows).toEqual([42, 43, 44, 45, 46]);
    expect(map.classes).toEqual(['drivable_area', 'divider', 'ped_crossing']);
  });
});
