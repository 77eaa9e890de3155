import type { Rng } from './rng';

export type Lighting = 'day' | 'dusk' | 'night';

/**
 * Per-scene sensing conditions. Night and fog degrade the cameras; dropout, a limited field of
 * view, sparse beams and dropped object points degrade the LiDAR.
 */
export interface SceneConditions {
  lighting: Lighting;
  /** Fog visibility length ℓ in metres (contrast × exp(−d/ℓ)); 0 means clear. */
  fogDistance: number;
  /** Sun direction (used for shading) as azimuth and elevation in radians, scene frame. */
  sunAzimuth: number;
  sunElevation: number;
  /** Camera noise σ on the [0, 1] scale. */
  cameraNoise: number;
  /** Base probability that a LiDAR return is lost. */
  lidarDropout: number;
  /** Half-angle of the LiDAR's horizontal field of view around ego forward, degrees (180 = full). */
  lidarFovDeg: number;
  /** Every other beam missing and range capped at 40 m. */
  lidarSparse: boolean;
  /** Probability of dropping each return from an object (a LiDAR fault mode). */
  objectPointDrop: number;
}

/** Samples conditions: day 60 %, dusk 20 %, night 20 %; fog 20 %; LiDAR faults 10–20 % each. */
export function sampleConditions(rng: Rng): SceneConditions {
  const u = rng.next();
  const lighting: Lighting = u < 0.6 ? 'day' : u < 0.8 ? 'dusk' : 'night';
  const fogDistance = rng.chance(0.2) ? rng.uniform(12, 35) : 0;
  const sunAzimuth = rng.uniform(-Math.PI, Math.PI);
  const sunElevation = lighting === 'day' ? rng.uniform(0.35, 1.1) : rng.uniform(0.05, 0.2);
  const lidarDropout = rng.chance(0.15) ? rng.uniform(0.3, 0.5) : 0.05;
  const v = rng.next();
  const lidarFovDeg = v < 0.1 ? 60 : v < 0.2 ? 90 : 180;
  const lidarSparse = rng.chance(0.15);
  const objectPointDrop = rng.chance(0.1) ? 0.5 : 0;
  return {
    lighting,
    fogDistance,
    sunAzimuth,
    sunElevation,
    cameraNoise: lighting === 'night' ? 0.04 : 0.02,
    lidarDropout,
    lidarFovDeg,
    lidarSparse,
    objectPointDrop,
  };
}

/** Conditions as the flat record stored on a `Frame`. */
export function conditionsRecord(c: SceneConditions, template: string): Record<string, string | number | boolean> {
  return {
    template,
    lighting: c.lighting,
    fog: c.fogDistance > 0,
    fogDistance: c.fogDistance,
    lidarDropout: c.lidarDropout,
    lidarFovDeg: c.lidarFovDeg,
    lidarSparse: c.lidarSparse,
    objectPointDrop: c.objectPointDrop,
  };
}

/** The condition groups a validation split must cover; a scene can belong to several. */
export const CONDITION_TAGS = ['clear', 'night', 'fog', 'lidar-fault'] as const;
export type ConditionTag = (typeof CONDITION_TAGS)[number];

/** The fields of {@link SceneConditions} the tags read; a `Frame.conditions` record has them too. */
export type TaggedConditions = Pick<SceneConditions, 'lighting' | 'fogDistance' | 'lidarDropout' | 'lidarFovDeg' | 'lidarSparse' | 'objectPointDrop'>;

/**
 * The groups a scene's conditions fall in: `clear` is day or dusk without fog; `lidar-fault` is any
 * LiDAR degradation beyond the 5 % base dropout (heavy dropout, a limited field of view, sparse
 * beams, dropped object points).
 */
export function conditionTags(c: TaggedConditions): ConditionTag[] {
  const tags: ConditionTag[] = [];
  const fog = c.fogDistance > 0;
  if (c.lighting !== 'night' && !fog) tags.push('clear');
  if (c.lighting === 'night') tags.push('night');
  if (fog) tags.push('fog');
  if (c.lidarDropout > 0.05 || c.lidarFovDeg < 180 || c.lidarSparse || c.objectPointDrop > 0) tags.push('lidar-fault');
  return tags;
}
