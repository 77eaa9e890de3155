/** An oriented rectangle in the BEV plane: centre, full length/width, heading of the length axis. */

/** Module-scope alias: global lookups are slow inside vm contexts (jest, sandboxes), and this is hot code. */
const math = Math;

export interface BevRect {
  x: number;
  y: number;
  length: number;
  width: number;
  yaw: number;
}

/**
 * Separating-axis test for two oriented rectangles that must keep a clearance of `margin`
 * (each is grown by margin/2 on every side): they overlap unless one of the four edge normals
 * separates their projections.
 */
export function rectsOverlap(a: BevRect, b: BevRect, margin = 0): boolean {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const g = margin / 2;
  const ha = [a.length / 2 + g, a.width / 2 + g];
  const hb = [b.length / 2 + g, b.width / 2 + g];
  const axesA = [math.cos(a.yaw), math.sin(a.yaw), -math.sin(a.yaw), math.cos(a.yaw)];
  const axesB = [math.cos(b.yaw), math.sin(b.yaw), -math.sin(b.yaw), math.cos(b.yaw)];
  for (const axes of [axesA, axesB]) {
    for (let k = 0; k < 2; k++) {
      const nx = axes[2 * k];
      const ny = axes[2 * k + 1];
      const ra = ha[0] * math.abs(nx * axesA[0] + ny * axesA[1]) + ha[1] * math.abs(nx * axesA[2] + ny * axesA[3]);
      const rb = hb[0] * math.abs(nx * axesB[0] + ny * axesB[1]) + hb[1] * math.abs(nx * axesB[2] + ny * axesB[3]);
      if (math.abs(dx * nx + dy * ny) > ra + rb) return false;
    }
  }
  return true;
}

/** The four corners of a rectangle, counter-clockwise. */
export function rectCorners(r: BevRect): [number, number][] {
  const c = math.cos(r.yaw);
  const s = math.sin(r.yaw);
  const out: [number, number][] = [];
  for (const [u, v] of [[1, 1], [-1, 1], [-1, -1], [1, -1]]) {
    const lx = (u * r.length) / 2;
    const ly = (v * r.width) / 2;
    out.push([r.x + c * lx - s * ly, r.y + s * lx + c * ly]);
  }
  return out;
}
