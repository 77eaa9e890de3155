import type { Rng } from './rng';
import { roadEdges, type RoadSegment } from './road';

/** Road templates the generator samples from. */
export type RoadTemplate = 'straight' | 'curve' | 'intersection';

/** The sampled road network and the ego's lane on the main segment. */
export interface Layout {
  template: RoadTemplate;
  segments: RoadSegment[];
  /** The segment the ego drives on (segments[0]). */
  main: RoadSegment;
  /** Lateral offset of the ego lane centre on `main`. */
  egoLat: number;
  /** Ego speed along its lane (m/s). */
  egoSpeed: number;
}

const LANE_WIDTH = 3.5;
const FAR = 200;

function segment(
  kind: 'line' | 'arc',
  origin: [number, number],
  heading: number,
  lanesLeft: number,
  lanesRight: number,
  sidewalkWidth: number,
  radius?: number,
): RoadSegment {
  const arcHalf = radius ? (Math.abs(radius) * Math.PI) / 2 : FAR;
  return {
    kind,
    origin,
    heading,
    radius,
    lanesLeft,
    lanesRight,
    laneWidth: LANE_WIDTH,
    sidewalkWidth,
    sMin: -arcHalf,
    sMax: arcHalf,
    crossings: [],
    crossingWidth: 3,
  };
}

/**
 * Samples a template (straight 40 %, curve 30 % with R ∈ [30, 120] m, 4-way intersection 30 %),
 * 1–3 lanes per direction of 3.5 m, 2–3 m sidewalks. The main segment is placed so that the ego
 * lane centre passes through the origin with heading +x; curves are limited to ±90° of arc.
 */
export function sampleLayout(rng: Rng, template?: RoadTemplate): Layout {
  const u = rng.next();
  const tpl: RoadTemplate = template ?? (u < 0.4 ? 'straight' : u < 0.7 ? 'curve' : 'intersection');
  const lanesRight = rng.int(1, 4);
  const lanesLeft = rng.chance(0.15) ? 0 : rng.int(1, 4);
  const sidewalk = rng.uniform(2, 3);
  const egoLane = rng.int(0, lanesRight);
  const egoLat = -(egoLane + 0.5) * LANE_WIDTH;
  const egoSpeed = rng.chance(0.3) ? 0 : rng.uniform(2, 10);
  const origin: [number, number] = [0, -egoLat];
  const segments: RoadSegment[] = [];
  if (tpl === 'curve') {
    const radius = rng.uniform(30, 120) * (rng.chance(0.5) ? 1 : -1);
    segments.push(segment('arc', origin, 0, lanesLeft, lanesRight, sidewalk, radius));
  } else {
    segments.push(segment('line', origin, 0, lanesLeft, lanesRight, sidewalk));
  }
  if (tpl === 'intersection') {
    const main = segments[0];
    const xj = rng.uniform(-14, 22);
    const n = rng.int(1, 3);
    const cross = segment('line', [xj, 0], Math.PI / 2, n, n, rng.uniform(2, 3));
    // Crossings lie on the other road's sidewalk band, one on each arm of the junction.
    const [cr, cl] = roadEdges(cross);
    const [mr, ml] = roadEdges(main);
    main.crossings = [xj + cr - cross.sidewalkWidth / 2, xj + cl + cross.sidewalkWidth / 2];
    cross.crossings = [main.origin[1] + mr - main.sidewalkWidth / 2, main.origin[1] + ml + main.sidewalkWidth / 2];
    segments.push(cross);
  }
  return { template: tpl, segments, main: segments[0], egoLat, egoSpeed };
}
