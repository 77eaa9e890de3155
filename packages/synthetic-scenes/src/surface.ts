import {
  CURB_HEIGHT,
  MATERIAL,
  dividerLines,
  paintAt,
  roadEdges,
  toRoadCoords,
  type Material,
  type PaintLine,
  type RoadCoords,
  type RoadSegment,
} from './road';

/** Module-scope alias: global lookups are slow inside vm contexts (jest, sandboxes), and this is hot code. */
const math = Math;

/** Map-label bits of a ground point. */
export const MAP_BIT = { drivable: 1, divider: 2, crossing: 4 } as const;

/**
 * The ground of a scene: the union of road segments. Carriageway beats sidewalk beats terrain;
 * where a point lies on another segment's carriageway or sidewalk band (a junction), lane paint
 * is suppressed but zebra crossings remain.
 */
export class RoadSurface {
  private readonly coords: RoadCoords[];
  private readonly lines: PaintLine[][];
  /** Per segment: [right edge, left edge, right sidewalk edge, left sidewalk edge]. */
  private readonly bands: Float64Array[];

  constructor(readonly segments: RoadSegment[]) {
    this.coords = segments.map(() => ({ s: 0, lat: 0 }));
    this.lines = segments.map(dividerLines);
    this.bands = segments.map((seg) => {
      const [right, left] = roadEdges(seg);
      return Float64Array.of(right, left, right - seg.sidewalkWidth, left + seg.sidewalkWidth);
    });
  }

  private locate(x: number, y: number): void {
    for (let k = 0; k < this.segments.length; k++) toRoadCoords(this.segments[k], x, y, this.coords[k]);
  }

  /** 0 = outside, 1 = carriageway, 2 = sidewalk band of segment k at the last located point. */
  private band(k: number): number {
    const seg = this.segments[k];
    const { s, lat } = this.coords[k];
    if (s < seg.sMin || s >= seg.sMax) return 0;
    const b = this.bands[k];
    if (lat >= b[0] && lat <= b[1]) return 1;
    if (lat >= b[2] && lat <= b[3]) return 2;
    return 0;
  }

  private inOtherBand(k: number): boolean {
    for (let o = 0; o < this.segments.length; o++) if (o !== k && this.band(o) !== 0) return true;
    return false;
  }

  /** Material m(x, y). */
  materialAt(x: number, y: number): Material {
    this.locate(x, y);
    let sidewalk = false;
    for (let k = 0; k < this.segments.length; k++) {
      const b = this.band(k);
      if (b === 1) return paintAt(this.segments[k], this.lines[k], this.coords[k].s, this.coords[k].lat, this.inOtherBand(k));
      if (b === 2) sidewalk = true;
    }
    return sidewalk ? MATERIAL.sidewalk : MATERIAL.terrain;
  }

  /** Ground height: the carriageway is at z = 0, sidewalks and terrain are raised by the curb. */
  heightAt(x: number, y: number): number {
    return isRaised(this.materialAt(x, y)) ? CURB_HEIGHT : 0;
  }

  /**
   * Map-label bits at (x, y). A sample is on a divider when its lateral offset d from a line
   * satisfies −tol ≤ d < tol, so lines sampled at spacing 2·tol come out one sample wide.
   */
  mapBitsAt(x: number, y: number, tol: number): number {
    this.locate(x, y);
    let bits = 0;
    for (let k = 0; k < this.segments.length; k++) {
      if (this.band(k) !== 1) continue;
      bits |= MAP_BIT.drivable;
      const seg = this.segments[k];
      const { s, lat } = this.coords[k];
      if (seg.crossings.some((c) => math.abs(s - c) < seg.crossingWidth / 2)) bits |= MAP_BIT.crossing;
      if (this.inOtherBand(k)) continue;
      for (const line of this.lines[k]) {
        const d = lat - line.lat;
        if (d >= -tol && d < tol) bits |= MAP_BIT.divider;
      }
    }
    return bits;
  }
}

/** Whether a material lies on the raised (curb-height) level. */
export function isRaised(m: Material): boolean {
  return m === MATERIAL.sidewalk || m === MATERIAL.terrain;
}
