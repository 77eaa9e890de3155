import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CONDITION_TAGS, conditionTags, sceneConditions } from '@bevzip/synthetic-scenes';
import { syntheticFrames } from './synthetic-split';
import {
  bevzipCacheDir,
  decodeFrames,
  encodeFrames,
  frameConditionTags,
  loadValidationSplit,
  splitConditionCounts,
  STANDARD_VALIDATION_SPLIT,
  validationSplitKey,
} from './validation-split';

const TINY = { scenes: 2, framesPerScene: 1 };

describe('validation split cache', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-valset-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('generates on a miss, then reads the same frames back from the file', () => {
    const first = loadValidationSplit(TINY, { cacheDir: dir });
    expect(first.source).toBe('generated');
    expect(first.frames).toHaveLength(2);
    expect(fs.existsSync(first.file)).toBe(true);
    expect(path.basename(first.file)).toBe(`${first.key}.bin`);
    const second = loadValidationSplit(TINY, { cacheDir: dir });
    expect(second.source).toBe('cache');
    expect(second.file).toBe(first.file);
    expect(second.frames).toEqual(first.frames);
    expect(second.frames[0].lidar.points).toBeInstanceOf(Float32Array);
    expect(second.frames[0].cameras[0].image).toBeInstanceOf(Uint8Array);
    // The cached frames are the generator's frames, not only a self-consistent copy.
    expect(second.frames).toEqual(syntheticFrames(0, STANDARD_VALIDATION_SPLIT.firstScene, 2, 1));
    // No temporary file is left beside it.
    expect(fs.readdirSync(path.dirname(first.file))).toEqual([path.basename(first.file)]);
  });

  it('detects a flipped byte by its SHA-256, warns and regenerates', () => {
    const first = loadValidationSplit(TINY, { cacheDir: dir });
    const bytes = fs.readFileSync(first.file);
    bytes[Math.floor(bytes.length * 0.7)] ^= 0xff;
    fs.writeFileSync(first.file, bytes);
    const warnings: string[] = [];
    const again = loadValidationSplit(TINY, { cacheDir: dir, warn: (w) => warnings.push(w) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/corrupted.*SHA-256.*regenerating/);
    expect(again.source).toBe('generated');
    expect(again.frames).toEqual(first.frames);
    expect(loadValidationSplit(TINY, { cacheDir: dir }).source).toBe('cache');
  });

  it('treats a truncated file as corrupted', () => {
    const first = loadValidationSplit(TINY, { cacheDir: dir });
    fs.truncateSync(first.file, 100);
    const warnings: string[] = [];
    expect(loadValidationSplit(TINY, { cacheDir: dir, warn: (w) => warnings.push(w) }).source).toBe('generated');
    expect(warnings[0]).toMatch(/corrupted/);
  });

  it('misses after a generator version bump or a different spec', () => {
    const v1 = loadValidationSplit(TINY, { cacheDir: dir, generatorVersion: 1 });
    const v2 = loadValidationSplit(TINY, { cacheDir: dir, generatorVersion: 2 });
    expect(v2.source).toBe('generated');
    expect(v2.key).not.toBe(v1.key);
    expect(loadValidationSplit({ ...TINY, dataSeed: 1 }, { cacheDir: dir, generatorVersion: 1 }).source).toBe('generated');
    expect(loadValidationSplit(TINY, { cacheDir: dir, generatorVersion: 1 }).source).toBe('cache');
    expect(fs.readdirSync(path.join(dir, 'validation'))).toHaveLength(3);
  });

  it('keys on every field of the spec', () => {
    const keys = new Set(
      [
        STANDARD_VALIDATION_SPLIT,
        { ...STANDARD_VALIDATION_SPLIT, dataSeed: 1 },
        { ...STANDARD_VALIDATION_SPLIT, firstScene: 0 },
        { ...STANDARD_VALIDATION_SPLIT, scenes: 119 },
        { ...STANDARD_VALIDATION_SPLIT, framesPerScene: 2 },
      ].map((s) => validationSplitKey(s)),
    );
    expect(keys.size).toBe(5);
    expect(validationSplitKey(STANDARD_VALIDATION_SPLIT)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects a header of another split under this key', () => {
    const first = loadValidationSplit(TINY, { cacheDir: dir });
    const other = encodeFrames(first.frames, { key: 'f'.repeat(64), generatorVersion: 1, spec: { ...STANDARD_VALIDATION_SPLIT, ...TINY } });
    fs.writeFileSync(first.file, other);
    const warnings: string[] = [];
    expect(loadValidationSplit(TINY, { cacheDir: dir, warn: (w) => warnings.push(w) }).source).toBe('generated');
    expect(warnings[0]).toMatch(/holds the split of key ffffffffffff/);
  });

  it('round-trips every typed array kind and refuses non-finite numbers', () => {
    const odd = [{ a: new Float64Array([1.5, -2]), b: new Int32Array([7, -9, 3]), c: new Uint8Array([1, 2, 3]), d: [new Float32Array([0.25])] }];
    const meta = { key: 'k', generatorVersion: 1, spec: { ...STANDARD_VALIDATION_SPLIT } };
    expect(decodeFrames(encodeFrames(odd as never, meta)).frames).toEqual(odd);
    expect(() => encodeFrames([{ x: NaN }] as never, meta)).toThrow(/non-finite/);
  });

  it('resolves the cache folder from the environment', () => {
    expect(bevzipCacheDir({ BEVZIP_CACHE_DIR: '/a', XDG_CACHE_HOME: '/b' })).toBe('/a');
    expect(bevzipCacheDir({ XDG_CACHE_HOME: '/b' })).toBe(path.join('/b', 'bevzip'));
    expect(bevzipCacheDir({})).toBe(path.join(os.homedir(), '.cache', 'bevzip'));
  });

  it('rejects a malformed spec naming the field', () => {
    expect(() => loadValidationSplit({ scenes: 0 }, { cacheDir: dir })).toThrow(/'scenes' must be an integer ≥ 1/);
  });
});

describe('standard validation split', () => {
  it('has ≥ 300 frames from ≥ 100 scenes', () => {
    expect(STANDARD_VALIDATION_SPLIT.scenes).toBeGreaterThanOrEqual(100);
    expect(STANDARD_VALIDATION_SPLIT.scenes * STANDARD_VALIDATION_SPLIT.framesPerScene).toBeGreaterThanOrEqual(300);
  });

  it('contains every condition group', () => {
    const counts = splitConditionCounts();
    for (const tag of CONDITION_TAGS) expect(counts[tag]).toBeGreaterThanOrEqual(10);
  });

  it('counts conditions as the rendered frames carry them', () => {
    const { dataSeed, firstScene } = STANDARD_VALIDATION_SPLIT;
    const frames = syntheticFrames(dataSeed, firstScene, 6, 1);
    frames.forEach((f, i) => expect(frameConditionTags(f)).toEqual(conditionTags(sceneConditions(dataSeed, firstScene + i))));
    expect(splitConditionCounts({ scenes: 6 })).toEqual(
      Object.fromEntries(CONDITION_TAGS.map((t) => [t, frames.filter((f) => frameConditionTags(f).includes(t)).length])),
    );
  });
});
