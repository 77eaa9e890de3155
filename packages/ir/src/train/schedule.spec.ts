import { learningRate, type ScheduleConfig } from './schedule';

describe('learningRate', () => {
  const cases: { name: string; config: ScheduleConfig; at: [number, number][] }[] = [
    { name: 'constant', config: { kind: 'constant' }, at: [[0, 0.1], [1000, 0.1]] },
    { name: 'step decay', config: { kind: 'step', stepSize: 10, gamma: 0.5 }, at: [[0, 0.1], [9, 0.1], [10, 0.05], [25, 0.025], [30, 0.0125]] },
    // cos(π/4) = √2/2 → 0.1·(1 + 0.70711)/2 = 0.085355
    { name: 'cosine', config: { kind: 'cosine', totalSteps: 100 }, at: [[0, 0.1], [25, 0.0853553390593], [50, 0.05], [100, 0], [150, 0]] },
    { name: 'cosine with a floor', config: { kind: 'cosine', totalSteps: 100, minLr: 0.02 }, at: [[50, 0.06], [100, 0.02], [400, 0.02]] },
    { name: 'constant with warm-up', config: { kind: 'constant', warmupSteps: 4 }, at: [[0, 0.025], [1, 0.05], [3, 0.1], [4, 0.1]] },
    // warm-up multiplies the schedule at the same absolute step: at step 2, cosine 0.1·(1 + cos(π·2/8))/2 times 3/4
    { name: 'cosine with warm-up', config: { kind: 'cosine', totalSteps: 8, warmupSteps: 4 }, at: [[2, 0.1 * 0.75 * (1 + Math.SQRT1_2) / 2], [4, 0.05], [8, 0]] },
    { name: 'step with warm-up', config: { kind: 'step', stepSize: 2, gamma: 0.1, warmupSteps: 3 }, at: [[0, 0.1 / 3], [2, 0.01], [3, 0.01], [4, 0.001]] },
  ];

  it.each(cases)('gives the expected values at chosen steps: $name', ({ config, at }) => {
    for (const [step, want] of at) expect(learningRate(config, 0.1, step)).toBeCloseTo(want, 12);
  });

  it('rejects malformed schedules and steps with a config error naming the field', () => {
    expect(() => learningRate({ kind: 'step', stepSize: 0, gamma: 0.5 }, 0.1, 1)).toThrow(/schedule 'step': stepSize/);
    expect(() => learningRate({ kind: 'cosine', totalSteps: 10 }, 0.1, -1)).toThrow(/step must be a non-negative integer, got -1/);
    expect(() => learningRate({ kind: 'constant' }, Infinity, 0)).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
    expect(() => learningRate({ kind: 'linear' } as unknown as ScheduleConfig, 0.1, 0)).toThrow(expect.objectContaining({ code: 'E_CONFIG' }));
  });
});
