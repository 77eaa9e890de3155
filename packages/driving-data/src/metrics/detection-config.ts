import { DETECTION_CLASSES, type DetectionClass } from '../data/types';

/**
 * Settings of the nuScenes detection evaluation (the devkit's `DetectionConfig`).
 * Matching always uses the xy centre distance (`center_distance`).
 */
export interface DetectionConfig {
  /** Boxes with ego distance ≥ this (metres) are dropped, per class. */
  classRange: Record<DetectionClass, number>;
  /** Centre-distance thresholds (metres) at which AP is computed. */
  distThs: number[];
  /** The threshold, one of `distThs`, whose matches give the TP errors. */
  distThTp: number;
  /** Recall below which the PR and error curves are ignored. */
  minRecall: number;
  /** Precision subtracted (and clipped) before averaging AP. */
  minPrecision: number;
  /** A submission with more boxes in one sample is rejected. */
  maxBoxesPerSample: number;
  /** Weight of mAP in NDS against one unit per TP score. */
  meanApWeight: number;
}

const CVPR_2019_RANGES: Record<DetectionClass, number> = {
  car: 50,
  truck: 50,
  bus: 50,
  trailer: 50,
  construction_vehicle: 50,
  pedestrian: 40,
  motorcycle: 40,
  bicycle: 40,
  traffic_cone: 30,
  barrier: 30,
};

/** The official configuration `detection_cvpr_2019.json`. */
export const DETECTION_CVPR_2019: Readonly<DetectionConfig> = Object.freeze({
  classRange: Object.freeze({ ...CVPR_2019_RANGES }) as Record<DetectionClass, number>,
  distThs: Object.freeze([0.5, 1.0, 2.0, 4.0]) as number[],
  distThTp: 2.0,
  minRecall: 0.1,
  minPrecision: 0.1,
  maxBoxesPerSample: 500,
  meanApWeight: 5,
});

/** Same as `DETECTION_CVPR_2019` but every class range is 25 m, which lies inside the synthetic BEV grid. */
export const SYNTHETIC_CONFIG: Readonly<DetectionConfig> = Object.freeze({
  ...DETECTION_CVPR_2019,
  classRange: Object.freeze(Object.fromEntries(DETECTION_CLASSES.map((c) => [c, 25]))) as Record<
    DetectionClass,
    number
  >,
});

/**
 * Builds a config from a base (default `DETECTION_CVPR_2019`) and overrides, then validates it.
 * @throws Error naming the offending field when a class range is missing or not positive,
 *   `distThTp` is not one of `distThs`, or a recall/precision bound lies outside [0, 1).
 */
export function createDetectionConfig(
  overrides: Partial<DetectionConfig> = {},
  base: Readonly<DetectionConfig> = DETECTION_CVPR_2019,
): DetectionConfig {
  const cfg: DetectionConfig = {
    ...base,
    ...overrides,
    classRange: { ...base.classRange, ...overrides.classRange },
    distThs: [...(overrides.distThs ?? base.distThs)],
  };
  validateDetectionConfig(cfg);
  return cfg;
}

/** Checks the invariants the devkit asserts on a `DetectionConfig`; throws with the field name. */
export function validateDetectionConfig(cfg: DetectionConfig): void {
  for (const name of DETECTION_CLASSES) {
    const r = cfg.classRange[name];
    if (typeof r !== 'number' || !(r > 0)) {
      throw new Error(`detection config: classRange.${name} must be a positive number of metres, got ${r}`);
    }
  }
  const extra = Object.keys(cfg.classRange).filter(
    (k) => !(DETECTION_CLASSES as readonly string[]).includes(k),
  );
  if (extra.length > 0)
    throw new Error(`detection config: classRange has unknown classes ${extra.join(', ')}`);
  if (cfg.distThs.length === 0 || cfg.distThs.some((d) => !(d > 0))) {
    throw new Error(`detection config: distThs must be positive distances, got [${cfg.distThs.join(', ')}]`);
  }
  if (!cfg.distThs.includes(cfg.distThTp)) {
    throw new Error(
      `detection config: distThTp ${cfg.distThTp} must be one of distThs [${cfg.distThs.join(', ')}]`,
    );
  }
  if (!(cfg.minRecall >= 0 && cfg.minRecall <= 1)) {
    throw new Error(`detection config: minRecall must lie in [0, 1], got ${cfg.minRecall}`);
  }
  if (!(cfg.minPrecision >= 0 && cfg.minPrecision < 1)) {
    throw new Error(`detection config: minPrecision must lie in [0, 1), got ${cfg.minPrecision}`);
  }
  if (!(Number.isInteger(cfg.maxBoxesPerSample) && cfg.maxBoxesPerSample > 0)) {
    throw new Error(
      `detection config: maxBoxesPerSample must be a positive integer, got ${cfg.maxBoxesPerSample}`,
    );
  }
  if (!(cfg.meanApWeight >= 0)) {
    throw new Error(`detection config: meanApWeight must be ≥ 0, got ${cfg.meanApWeight}`);
  }
}
