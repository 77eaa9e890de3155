import type { EvalBox } from './eval-box';
import { parseSubmission, submissionToEvalBoxes } from './submission-reader';
import { buildSubmission, CAMERA_LIDAR_META, serializeSubmission } from './submission-writer';
import { specBox } from './testing/devkit-fixtures';

const pred = (sample: string, score: number): EvalBox => ({
  ...specBox(sample, { trans: [10, 20, 1], size: [1.9, 4.5, 1.6], rot: [1, 0, 0, 0], vel: [1, 0], score }),
  egoDist: 3,
});

describe('buildSubmission', () => {
  it('lists every sample, including empty ones, in the devkit field layout', () => {
    const sub = buildSubmission([pred('b', 0.8)], ['a', 'b']);
    expect(Object.keys(sub.results)).toEqual(['a', 'b']);
    expect(sub.results.a).toEqual([]);
    expect(sub.meta).toEqual(CAMERA_LIDAR_META);
    expect(sub.results.b[0]).toEqual({
      sample_token: 'b',
      translation: [10, 20, 1],
      size: [1.9, 4.5, 1.6],
      rotation: [1, 0, 0, 0],
      velocity: [1, 0],
      detection_name: 'car',
      detection_score: 0.8,
      attribute_name: 'vehicle.parked',
    });
  });

  it('names the box that is out of the set, non-finite, or over the per-sample limit', () => {
    expect(() => buildSubmission([pred('x', 0.5)], ['a'])).toThrow(
      /prediction 0 \(sample x\): sample token is not in/,
    );
    const bad = { ...pred('a', 0.5), velocity: [NaN, 0] as [number, number] };
    expect(() => buildSubmission([bad], ['a'])).toThrow(/prediction 0 \(sample a\): velocity must be finite/);
    expect(() => buildSubmission([pred('a', 0.5), pred('a', 0.4)], ['a'], CAMERA_LIDAR_META, 1)).toThrow(
      /sample a has 2 boxes/,
    );
  });
});

describe('parseSubmission', () => {
  it('round-trips a written submission into equal EvalBoxes', () => {
    const boxes = [pred('a', 0.8), pred('b', 0.3)];
    const text = serializeSubmission(buildSubmission(boxes, ['a', 'b', 'c']));
    const sub = parseSubmission(text, { expectedSampleTokens: ['a', 'b', 'c'] });
    const back = submissionToEvalBoxes(sub, () => [10, 16, 0]);
    expect(back.get('a')).toEqual([{ ...boxes[0], egoDist: 4 }]);
    expect(back.get('c')).toEqual([]);
    expect(submissionToEvalBoxes(sub).get('b')![0].egoDist).toBeNaN();
  });

  it('reports the JSON path and the expectation for malformed results', () => {
    const sub = JSON.parse(serializeSubmission(buildSubmission([pred('a', 0.8)], ['a'])));
    sub.results.a[0].size = [1, 0, 1];
    sub.results.a[0].detection_name = 'tram';
    delete sub.meta.use_map;
    expect(() => parseSubmission(sub, { source: 'results.json' })).toThrow(
      /results\.json: invalid detection submission[\s\S]*meta\.use_map[\s\S]*results\.a\.0\.size: every size entry must be > 0[\s\S]*results\.a\.0\.detection_name/,
    );
  });

  it('rejects results filed under another sample, missing or unknown samples, and too many boxes', () => {
    const sub = buildSubmission([pred('a', 0.8), pred('a', 0.7)], ['a', 'b']);
    expect(() => parseSubmission(sub, { expectedSampleTokens: ['a', 'c'] })).toThrow(
      /missing 1 \(e\.g\. c\); unknown 1 \(e\.g\. b\)/,
    );
    expect(() => parseSubmission(sub, { maxBoxesPerSample: 1 })).toThrow(/results\.a has 2 boxes/);
    const moved = { ...sub, results: { b: sub.results.a, a: [] } };
    expect(() => parseSubmission(moved)).toThrow(/results\.b\.0\.sample_token is a; expected b/);
    expect(() => parseSubmission('{"meta":', { source: 'r.json' })).toThrow(/r\.json: not valid JSON/);
  });
});
