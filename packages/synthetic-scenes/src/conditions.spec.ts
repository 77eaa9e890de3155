import { conditionTags, type TaggedConditions } from './conditions';

const base: TaggedConditions = { lighting: 'day', fogDistance: 0, lidarDropout: 0.05, lidarFovDeg: 180, lidarSparse: false, objectPointDrop: 0 };

describe('conditionTags', () => {
  it('groups conditions as the validation split reports them', () => {
    expect(conditionTags(base)).toEqual(['clear']);
    expect(conditionTags({ ...base, lighting: 'dusk' })).toEqual(['clear']);
    expect(conditionTags({ ...base, lighting: 'night' })).toEqual(['night']);
    expect(conditionTags({ ...base, fogDistance: 20 })).toEqual(['fog']);
    expect(conditionTags({ ...base, lighting: 'night', fogDistance: 20 })).toEqual(['night', 'fog']);
    for (const fault of [{ lidarDropout: 0.4 }, { lidarFovDeg: 60 }, { lidarSparse: true }, { objectPointDrop: 0.5 }])
      expect(conditionTags({ ...base, ...fault })).toEqual(['clear', 'lidar-fault']);
  });
});
