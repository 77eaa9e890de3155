import { defaultAttribute, relevantAttributes } from './attributes';

describe('defaultAttribute', () => {
  it('marks moving vehicles and ridden cycles above 0.2 m/s', () => {
    expect(defaultAttribute('car', [0.3, 0])).toBe('vehicle.moving');
    expect(defaultAttribute('trailer', [0.15, 0.15])).toBe('vehicle.moving'); // |v| ≈ 0.212
    expect(defaultAttribute('bicycle', [0, -1])).toBe('cycle.with_rider');
    expect(defaultAttribute('pedestrian', [1, 0])).toBe('pedestrian.moving');
    expect(defaultAttribute('barrier', [1, 0])).toBe('');
  });

  it('uses standing pedestrians, stopped buses and class defaults at or below 0.2 m/s', () => {
    expect(defaultAttribute('pedestrian', [0.2, 0])).toBe('pedestrian.standing');
    expect(defaultAttribute('bus', [0, 0])).toBe('vehicle.stopped');
    expect(defaultAttribute('car', [0.1, 0.1])).toBe('vehicle.parked');
    expect(defaultAttribute('motorcycle', [0, 0])).toBe('cycle.without_rider');
    expect(defaultAttribute('traffic_cone', [0, 0])).toBe('');
  });

  it('always returns an attribute valid for the class', () => {
    for (const name of ['car', 'bus', 'pedestrian', 'bicycle', 'barrier'] as const) {
      for (const v of [
        [0, 0],
        [5, 0],
      ] as [number, number][]) {
        const a = defaultAttribute(name, v);
        if (a === '') expect(relevantAttributes(name)).toEqual([]);
        else expect(relevantAttributes(name)).toContain(a);
      }
    }
  });
});
