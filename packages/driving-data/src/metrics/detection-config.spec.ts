import { DETECTION_CLASSES } from '../data/types';
import { DETECTION_CVPR_2019, SYNTHETIC_CONFIG, createDetectionConfig } from './detection-config';

describe('detection configs', () => {
  it('hold the detection_cvpr_2019 values', () => {
    expect(DETECTION_CVPR_2019.classRange).toEqual({
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
    });
    expect(DETECTION_CVPR_2019.distThs).toEqual([0.5, 1, 2, 4]);
    expect(DETECTION_CVPR_2019).toMatchObject({
      distThTp: 2,
      minRecall: 0.1,
      minPrecision: 0.1,
      maxBoxesPerSample: 500,
      meanApWeight: 5,
    });
  });

  it('restrict every class to 25 m in the synthetic config and change nothing else', () => {
    for (const c of DETECTION_CLASSES) expect(SYNTHETIC_CONFIG.classRange[c]).toBe(25);
    expect({ ...SYNTHETIC_CONFIG, classRange: null }).toEqual({ ...DETECTION_CVPR_2019, classRange: null });
  });

  it('merge overrides per class and validate them with the field named', () => {
    expect(createDetectionConfig({ classRange: { car: 30 } as never }).classRange.truck).toBe(50);
    expect(createDetectionConfig({ classRange: { car: 30 } as never }).classRange.car).toBe(30);
    expect(() => createDetectionConfig({ distThTp: 3 })).toThrow(/distThTp 3 must be one of distThs/);
    expect(() => createDetectionConfig({ classRange: { bus: -1 } as never })).toThrow(/classRange\.bus/);
    expect(() => createDetectionConfig({ minPrecision: 1 })).toThrow(/minPrecision/);
    expect(() => createDetectionConfig({ classRange: { tram: 10 } as never })).toThrow(
      /unknown classes tram/,
    );
  });
});
