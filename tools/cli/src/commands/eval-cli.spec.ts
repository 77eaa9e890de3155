import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createProgram } from '../program';

/** Runs `bevzip …` in process with BEVZIP_CACHE_DIR set; returns what it printed. */
async function bevzip(cacheDir: string, ...argv: string[]): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
  const saved = process.env.BEVZIP_CACHE_DIR;
  process.env.BEVZIP_CACHE_DIR = cacheDir;
  try {
    const program = createProgram().exitOverride();
    await program.parseAsync(['node', 'bevzip', ...argv]);
  } finally {
    out.mockRestore();
    err.mockRestore();
    if (saved === undefined) delete process.env.BEVZIP_CACHE_DIR;
    else process.env.BEVZIP_CACHE_DIR = saved;
  }
  return { stdout, stderr };
}

describe('bevzip eval --val-frames', () => {
  let cache: string;
  beforeAll(() => {
    cache = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-eval-cache-'));
  });
  afterAll(() => fs.rmSync(cache, { recursive: true, force: true }));

  it('evaluates the first N frames of the standard split with bootstrap intervals, cached for the next run', async () => {
    const first = await bevzip(cache, 'eval', '--ckpt', 'builtin:tiny-fusion', '--val-frames', '5', '--json');
    const r = JSON.parse(first.stdout) as Record<string, any>;
    expect(r.frames).toBe(5);
    expect(r.split).toMatchObject({ dataSeed: 0, firstScene: 100_000, scenes: 120, framesPerScene: 3, frames: 5, source: 'generated' });
    expect(r.bootstrap).toEqual({ resamples: 1000, seed: 0, confidence: 0.95 });
    for (const m of ['mAP', 'NDS', 'mATE']) {
      expect(r.intervals[m].lo).toBeLessThanOrEqual(r[m]);
      expect(r.intervals[m].hi).toBeGreaterThanOrEqual(r[m]);
    }
    expect(r.intervals.NDS.hi).toBeGreaterThan(r.intervals.NDS.lo);
    // Two scenes (6 frames) were generated and cached; the second run reads them.
    expect(fs.readdirSync(path.join(cache, 'validation'))).toHaveLength(1);
    const table = await bevzip(cache, 'eval', '--ckpt', 'builtin:tiny-fusion', '--val-frames', '5');
    expect(table.stderr).toMatch(/validation set: 6 frames read from/);
    expect(table.stdout).toMatch(/val set\s+the first 5 of 360 frames \(120 scenes × 3, data seed 0, cached\)/);
    expect(table.stdout).toMatch(new RegExp(`mAP\\s+${r.mAP.toFixed(4)}\\s+\\[${r.intervals.mAP.lo.toFixed(4)}, ${r.intervals.mAP.hi.toFixed(4)}\\]`));
  }, 60_000);

  it('refuses more frames than the split has, naming the option', async () => {
    await expect(bevzip(cache, 'eval', '--ckpt', 'builtin:tiny-fusion', '--val-scenes', '2', '--val-frames', '7')).rejects.toThrow(
      /'valFrames' must be an integer in \[1, 6\]/,
    );
  });
});
