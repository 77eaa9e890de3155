import type { DetectionClass } from '../../data/types';
import { relevantAttributes } from '../attributes';
import type { EvalBox, EvalBoxes } from '../eval-box';
import { Mt19937 } from './mt19937';

/** Shorthand box of the devkit's algorithm tests; unspecified fields take the tests' defaults. */
export interface BoxSpec {
  trans?: [number, number, number];
  size?: [number, number, number];
  rot?: [number, number, number, number];
  vel?: [number, number];
  attr?: string;
  score?: number;
  name?: DetectionClass;
}

/** An `EvalBox` with the devkit tests' defaults: origin, unit size, zero quaternion, car, parked. */
export function specBox(sampleToken: string, s: BoxSpec): EvalBox {
  return {
    sampleToken,
    translation: s.trans ?? [0, 0, 0],
    size: s.size ?? [1, 1, 1],
    rotation: s.rot ?? [0, 0, 0, 0],
    velocity: s.vel ?? [0, 0],
    detectionName: s.name ?? 'car',
    detectionScore: s.score ?? -1,
    attributeName: s.attr ?? 'vehicle.parked',
    egoDist: 0,
    numPts: -1,
  };
}

/** `{sample: [specs]}` as `EvalBoxes`, keeping the key order. */
export function specBoxes(samples: Record<string, BoxSpec[]>): EvalBoxes {
  return new Map(Object.entries(samples).map(([t, list]) => [t, list.map((s) => specBox(t, s))]));
}

/** The two generators the devkit's randomised tests draw from after seeding both with 42. */
export interface DevkitRandom {
  np: Mt19937;
  py: Mt19937;
}

export function seededDevkitRandom(seed = 42): DevkitRandom {
  return { np: Mt19937.numpySeed(seed), py: Mt19937.pythonSeed(seed) };
}

function mockBox(r: DevkitRandom, sample: string, name: DetectionClass, spread: number): EvalBox {
  const [x, y] = r.np.rand(2).map((v) => v * spread);
  const size = r.np.rand(3).map((v) => v * 4) as [number, number, number];
  const rotation = r.np.rand(4) as [number, number, number, number];
  const vel = r.np.rand(3).map((v) => v * 4);
  const detectionScore = r.py.random();
  const rel = relevantAttributes(name);
  const attributeName = rel.length === 0 ? '' : rel[r.np.randint(0, rel.length)];
  const egoDist = r.py.random() * 10;
  return {
    sampleToken: sample,
    translation: [x, y, 0],
    size,
    rotation,
    velocity: [vel[0], vel[1]],
    detectionName: name,
    detectionScore,
    attributeName,
    egoDist,
    numPts: -1,
  };
}

/**
 * The devkit's `TestAlgo._mock_results`: `nsamples` samples, each with `ngt` ground-truth boxes
 * spread over 15 m and `npred` predictions over 10 m, all of one class, with the same draw order.
 */
export function mockResults(
  r: DevkitRandom,
  nsamples: number,
  ngt: number,
  npred: number,
  name: DetectionClass,
): { gt: EvalBoxes; pred: EvalBoxes } {
  const gt: EvalBoxes = new Map();
  const pred: EvalBoxes = new Map();
  for (let s = 0; s < nsamples; s++) {
    gt.set(
      String(s),
      Array.from({ length: ngt }, () => mockBox(r, String(s), name, 15)),
    );
  }
  for (let s = 0; s < nsamples; s++) {
    pred.set(
      String(s),
      Array.from({ length: npred }, () => mockBox(r, String(s), name, 10)),
    );
  }
  return { gt, pred };
}
