/**
 * Analytic road geometry in the scene frame (ego at the origin heading +x at t = 0): straight or
 * circular-arc segments carrying lanes, sidewalks and paint, and the material lookup m(x, y).
 */

/** Module-scope alias: global lookups are slow inside vm contexts (jest, sandboxes), and this is hot code. */
const math = Math;


/** Surface materials of the ground. */
export const MATERIAL = { terrain: 0, asphalt: 1, sidewalk: 2, paintWhite: 3, paintYellow: 4 } as const;
export type Material = (typeof MATERIAL)[keyof typeof MATERIAL];

/** Height of sidewalks and terrain above the carriageway. */
export const CURB_HEIGHT = 0.15;
export const PAINT_WIDTH = 0.15;
/** Edge lines sit this far inside the carriageway edge. */
export const EDGE_LINE_INSET = 0.3;
const DASH_ON = 3;
const DASH_PERIOD = 9;
const ZEBRA_PERIOD = 1;

/**
 * A road segment: a reference curve (lat = 0) with `lanesLeft` lanes on its left (traffic runs
 * towards −s) and `lanesRight` lanes on its right (towards +s), sidewalks beyond both edges.
 */
export interface RoadSegment {
  kind: 'line' | 'arc';
  /** Point of the reference curve at s = 0 and its heading there. */
  origin: [number, number];
  heading: number;
  /** Arc radius, positive turning left, negative turning right (arcs only). */
  radius?: number;
  lanesLeft: number;
  lanesRight: number;
  laneWidth: number;
  sidewalkWidth: number;
  sMin: number;
  sMax: number;
  /** Centres (in s) of zebra crossings, `crossingWidth` long along s. */
  crossings: number[];
  crossingWidth: number;
}

/** Curve coordinates of a point: arc length along the reference and signed lateral offset (left +). */
export interface RoadCoords {
  s: number;
  lat: number;
}

/** Curve coordinates of (x, y) relative to `seg` (written into `out`). */
export function toRoadCoords(seg: RoadSegment, x: number, y: number, out: RoadCoords): RoadCoords {
  const c = math.cos(seg.heading);
  const sn = math.sin(seg.heading);
  if (seg.kind === 'line' || !seg.radius) {
    const dx = x - seg.origin[0];
    const dy = y - seg.origin[1];
    out.s = dx * c + dy * sn;
    out.lat = -dx * sn + dy * c;
    return out;
  }
  const sigma = math.sign(seg.radius);
  const r0 = math.abs(seg.radius);
  const cx = seg.origin[0] - sigma * r0 * sn;
  const cy = seg.origin[1] + sigma * r0 * c;
  const ax = seg.origin[0] - cx;
  const ay = seg.origin[1] - cy;
  const vx = x - cx;
  const vy = y - cy;
  const phi = math.atan2(ax * vy - ay * vx, ax * vx + ay * vy);
  out.s = sigma * r0 * phi;
  out.lat = sigma * (r0 - math.hypot(vx, vy));
  return out;
}

/** Position and heading of the point at curve coordinates (s, lat). */
export function roadPointAt(seg: RoadSegment, s: number, lat: number): { x: number; y: number; heading: number } {
  const c = math.cos(seg.heading);
  const sn = math.sin(seg.heading);
  if (seg.kind === 'line' || !seg.radius) {
    return { x: seg.origin[0] + s * c - lat * sn, y: seg.origin[1] + s * sn + lat * c, heading: seg.heading };
  }
  const sigma = math.sign(seg.radius);
  const r0 = math.abs(seg.radius);
  const phi = (sigma * s) / r0;
  const heading = seg.heading + phi;
  // The outward radial direction is the heading turned right for a left turn (and vice versa).
  const ux = sigma * math.sin(heading);
  const uy = -sigma * math.cos(heading);
  const cx = seg.origin[0] - sigma * r0 * sn;
  const cy = seg.origin[1] + sigma * r0 * c;
  const r = r0 - sigma * lat;
  return { x: cx + ux * r, y: cy + uy * r, heading };
}

/** Carriageway edges [right, left] in lat. */
export function roadEdges(seg: RoadSegment): [number, number] {
  return [-seg.lanesRight * seg.laneWidth, seg.lanesLeft * seg.laneWidth];
}

/** Lateral positions of painted lines that count as map dividers (centre, lane and edge lines). */
export function dividerLines(seg: RoadSegment): PaintLine[] {
  const [right, left] = roadEdges(seg);
  const lines: PaintLine[] = [];
  if (seg.lanesLeft > 0 && seg.lanesRight > 0) lines.push({ lat: 0, kind: 'centre' });
  for (let k = 1; k < seg.lanesLeft; k++) lines.push({ lat: k * seg.laneWidth, kind: 'lane' });
  for (let k = 1; k < seg.lanesRight; k++) lines.push({ lat: -k * seg.laneWidth, kind: 'lane' });
  lines.push({ lat: right + EDGE_LINE_INSET, kind: 'edge' }, { lat: left - EDGE_LINE_INSET, kind: 'edge' });
  return lines;
}

/** A painted line of `dividerLines`. */
export interface PaintLine {
  lat: number;
  kind: 'centre' | 'lane' | 'edge';
}

/** Paint material at (s, lat) on the carriageway of `seg` (lines from `dividerLines(seg)`), or asphalt. */
export function paintAt(seg: RoadSegment, lines: readonly PaintLine[], s: number, lat: number, inJunction: boolean): Material {
  for (let k = 0; k < seg.crossings.length; k++) {
    if (math.abs(s - seg.crossings[k]) < seg.crossingWidth / 2) {
      const phase = (((lat % ZEBRA_PERIOD) + ZEBRA_PERIOD) % ZEBRA_PERIOD) / ZEBRA_PERIOD;
      return phase < 0.5 ? MATERIAL.paintWhite : MATERIAL.asphalt;
    }
  }
  if (inJunction) return MATERIAL.asphalt;
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k];
    if (math.abs(lat - line.lat) >= PAINT_WIDTH / 2) continue;
    if (line.kind === 'centre') return MATERIAL.paintYellow;
    if (line.kind === 'edge') return MATERIAL.paintWhite;
    const phase = ((s % DASH_PERIOD) + DASH_PERIOD) % DASH_PERIOD;
    return phase < DASH_ON ? MATERIAL.paintWhite : MATERIAL.asphalt;
  }
  return MATERIAL.asphalt;
}
