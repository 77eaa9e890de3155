// Small helpers for the packaging proof: named steps with timings, commands with captured output,
// and failures that say which step broke and why.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export class StepFailure extends Error {}

let index = 0;
let total = 0;
const timings = [];

/** Declares how many steps the run has, for the `[i/n]` counter. */
export function plan(n) {
  total = n;
}

/** Runs one named step; prints its name, its duration, and on failure the reason. */
export async function step(name, fn) {
  index++;
  const label = `[${index}/${total}] ${name}`;
  process.stdout.write(`\n▶ ${label}\n`);
  const started = performance.now();
  try {
    const result = await fn();
    const seconds = (performance.now() - started) / 1000;
    timings.push({ name, seconds });
    process.stdout.write(`✓ ${label} (${seconds.toFixed(1)} s)\n`);
    return result;
  } catch (e) {
    process.stdout.write(`✗ ${label}\n`);
    throw new StepFailure(`packaging proof failed at step ${index} "${name}":\n${e instanceof Error ? e.message : String(e)}`);
  }
}

export function summary() {
  return timings.map((t) => `  ${t.seconds.toFixed(1).padStart(6)} s  ${t.name}`).join('\n');
}

/** Prints an indented detail line under the current step. */
export function note(message) {
  process.stdout.write(message.split('\n').map((l) => `    ${l}`).join('\n') + '\n');
}

const NOISE = /^npm warn (Unknown (project|user) config|EBADENGINE)|^npm warn EBADENGINE/;

/**
 * Runs a command; returns { status, stdout, stderr }. With `expectFailure` a zero exit is the
 * error; otherwise a non-zero exit throws with the command and the tail of its output.
 */
export function run(command, args, { cwd, env = {}, expectFailure = false, timeoutSeconds = 600 } = {}) {
  const r = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: timeoutSeconds * 1000, maxBuffer: 64 << 20 });
  const clean = (s) => (s ?? '').split('\n').filter((l) => !NOISE.test(l) && !/^npm warn\s+(package|required|current|\}|\{)/.test(l)).join('\n');
  const out = { status: r.status, stdout: clean(r.stdout), stderr: clean(r.stderr) };
  const shown = `${command} ${args.join(' ')}  (in ${cwd})`;
  if (r.error) throw new Error(`${shown} could not run: ${r.error.message}`);
  if (!expectFailure && r.status !== 0) throw new Error(`${shown} exited with ${r.status}:\n${tail(out.stdout + '\n' + out.stderr, 40)}`);
  if (expectFailure && r.status === 0) throw new Error(`${shown} succeeded, but it was expected to fail:\n${tail(out.stdout, 20)}`);
  return out;
}

export function tail(text, lines) {
  return text.trim().split('\n').slice(-lines).join('\n');
}

export function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

export function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/** Throws with `message` unless `condition` holds. */
export function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** The `type: step` and `type: run-start` events of a compress run's events.jsonl. */
export function readEvents(outDir) {
  const file = path.join(outDir, 'events.jsonl');
  check(fs.existsSync(file), `${file} was not written`);
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}
