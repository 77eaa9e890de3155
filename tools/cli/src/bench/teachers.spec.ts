import { learningCurve } from './teachers';

describe('teacher learning curves', () => {
  it('pairs each validation step with the mean task loss of the steps since the previous one', () => {
    const events = [
      { type: 'run-start' },
      ...[0, 1, 2, 3].map((step) => ({ type: 'step', step, losses: { task: 4 - step } })),
      ...['mAP', 'NDS', 'mIoU', 'mATE'].map((n, i) => ({ type: 'metric', step: 2, name: `val/${n}`, value: 0.1 * (i + 1) })),
      ...[4, 5].map((step) => ({ type: 'step', step, losses: { task: 1 } })),
      ...['mAP', 'NDS', 'mIoU'].map((n) => ({ type: 'metric', step: 6, name: `val/${n}`, value: 0.5 })),
      { type: 'metric', step: 6, name: 'weight/x/y', value: 9 },
    ];
    const curve = learningCurve(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    // Steps 0–1 (losses 4, 3) precede the first evaluation; steps 2–5 (2, 1, 1, 1) the second.
    expect(curve).toEqual([
      { step: 2, trainLoss: 3.5, mAP: 0.1, NDS: 0.2, mIoU: 0.3 },
      { step: 6, trainLoss: 1.25, mAP: 0.5, NDS: 0.5, mIoU: 0.5 },
    ]);
  });
});
