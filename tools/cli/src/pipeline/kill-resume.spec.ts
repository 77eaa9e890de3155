import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const HARNESS = path.join(__dirname, 'fixtures', 'kill', 'harness.js');

interface Outcome {
  weights: Record<string, string>;
  ranges: Record<string, number>;
  resumedFrom: { stage: number; step: number } | null;
}

/** Runs the progressive-QAT harness into `dir`, to completion or to its kill point. */
function harness(dir: string, kill = 'none') {
  const r = spawnSync(process.execPath, [HARNESS, dir, kill], { encoding: 'utf8', timeout: 60_000 });
  return { signal: r.signal, status: r.status, stderr: r.stderr, outcome: r.status === 0 ? (JSON.parse(r.stdout.trim()) as Outcome) : undefined };
}

/**
 * SIGKILL at seeded points of a two-stage progressive QAT run (4 + 6 steps, checkpoints every 2),
 * then a plain rerun into the same folder: it must continue from the newest complete checkpoint
 * and end bit-equal (weights and calibrated ranges) to a run that was never interrupted.
 */
describe('killed with SIGKILL and run again', () => {
  let root: string;
  let reference: Outcome;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-kill-'));
    const r = harness(path.join(root, 'reference'));
    expect(r.stderr).toBe('');
    reference = r.outcome!;
    expect(Object.keys(reference.ranges).length).toBeGreaterThan(0);
  }, 60_000);
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it.each([
    // kill point, where the rerun continues from (null: from the start)
    ['step:s1:0', null],
    ['step:s1:2', { stage: 0, step: 2 }],
    ['step:s2:1', { stage: 1, step: 0 }],
    ['step:s2:4', { stage: 1, step: 4 }],
    ['weights:3', { stage: 1, step: 0 }],
    ['write:2', { stage: 0, step: 2 }],
    ['write:5', { stage: 1, step: 4 }],
  ])('at %s', (kill, resumedFrom) => {
    const dir = path.join(root, kill.replaceAll(':', '-'));
    const killed = harness(dir, kill);
    expect(killed.signal).toBe('SIGKILL');
    const again = harness(dir);
    expect(again.stderr).toBe('');
    expect(again.outcome!.resumedFrom).toEqual(resumedFrom);
    expect(again.outcome!.weights).toEqual(reference.weights);
    expect(again.outcome!.ranges).toEqual(reference.ranges);
    // The half-written checkpoint the kill left is cleaned up by the rerun.
    expect(fs.readdirSync(dir).filter((d) => d.includes('.tmp-'))).toEqual([]);
  }, 60_000);
});
