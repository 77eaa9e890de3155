import type { BevGrid, MapLabels } from '@bevzip/driving-data';
import { MAP_BIT, type RoadSurface } from './surface';
import type { Pose2D } from './world';

/** Module-scope alias: global lookups are slow inside vm contexts (jest, sandboxes), and this is hot code. */
const math = Math;

/** Map classes in mask order; `ped_crossing` is included on request. */
export const MAP_CLASSES = ['drivable_area', 'divider', 'ped_crossing'] as const;
export type MapClass = (typeof MAP_CLASSES)[number];

/**
 * Rasterises map labels on an ego-frame BEV grid (row i ↔ x, column j ↔ y). Each cell is sampled
 * at 2×2 sub-cell centres mapped into the scene frame by `ego`; drivable_area and ped_crossing are
 * set where at least half the samples are covered; divider where any sample lies within a
 * half-open quarter cell of a painted line, which draws each line about one cell wide.
 */
export function rasterizeMap(
  surface: RoadSurface,
  ego: Pose2D,
  grid: BevGrid,
  classes: readonly MapClass[] = ['drivable_area', 'divider'],
): MapLabels {
  const [rows, cols] = grid.size;
  const masks = classes.map(() => new Uint8Array(rows * cols));
  const c = math.cos(ego.yaw);
  const s = math.sin(ego.yaw);
  const sub = grid.cell / 2;
  const tol = sub / 2;
  const bitOf: Record<MapClass, number> = {
    drivable_area: MAP_BIT.drivable,
    divider: MAP_BIT.divider,
    ped_crossing: MAP_BIT.crossing,
  };
  const hits = new Int32Array(3);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      hits.fill(0);
      for (let a = 0; a < 2; a++) {
        for (let b = 0; b < 2; b++) {
          const ex = grid.xmin + i * grid.cell + (a + 0.5) * sub;
          const ey = grid.ymin + j * grid.cell + (b + 0.5) * sub;
          const bits = surface.mapBitsAt(ego.x + c * ex - s * ey, ego.y + s * ex + c * ey, tol);
          if (bits & MAP_BIT.drivable) hits[0]++;
          if (bits & MAP_BIT.divider) hits[1]++;
          if (bits & MAP_BIT.crossing) hits[2]++;
        }
      }
      classes.forEach((name, k) => {
        const bit = bitOf[name];
        const count = bit === MAP_BIT.drivable ? hits[0] : bit === MAP_BIT.divider ? hits[1] : hits[2];
        const on = bit === MAP_BIT.divider ? count > 0 : count >= 2;
        if (on) masks[k][i * cols + j] = 1;
      });
    }
  }
  return { classes: [...classes], xmin: grid.xmin, ymin: grid.ymin, cell: grid.cell, size: [rows, cols], masks };
}
