import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BevzipError, ERROR_CODES } from '@bevzip/ir';
import { checkOutDir, LOCK_FILE, replaceDirAtomic, RUN_MARKER, takeOutDir, writeFileAtomic } from './out-dir';
import { runCompress } from './run';

/** Every file under `dir` with its bytes, to assert a refused run changed nothing. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p).toString('base64');
    }
  };
  walk(dir);
  return out;
}

const refusal = (fn: () => unknown): BevzipError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BevzipError);
    expect((e as BevzipError).code).toBe(ERROR_CODES.OUTPUT);
    return e as BevzipError;
  }
  throw new Error('expected a refusal');
};

describe('the output folder', () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'bevzip-outdir-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('accepts a new folder, an empty one, and one bevzip marked', () => {
    expect(() => checkOutDir(path.join(root, 'new', 'deeper'), [])).not.toThrow();
    fs.mkdirSync(path.join(root, 'empty'));
    expect(() => checkOutDir(path.join(root, 'empty'), [])).not.toThrow();
    const own = path.join(root, 'own');
    takeOutDir(own, { command: 'test' }).release();
    fs.writeFileSync(path.join(own, 'summary.json'), '{}');
    expect(() => checkOutDir(own, [])).not.toThrow();
    expect(JSON.parse(fs.readFileSync(path.join(own, RUN_MARKER), 'utf8'))).toMatchObject({ format: 'bevzip-run', command: 'test' });
    expect(fs.existsSync(path.join(own, LOCK_FILE))).toBe(false);
  });

  it('refuses a foreign non-empty folder, naming what it holds', () => {
    fs.mkdirSync(path.join(root, 'checkpoints'));
    fs.writeFileSync(path.join(root, 'report.html'), 'mine');
    const e = refusal(() => checkOutDir(root, []));
    expect(e.message).toMatch(/not a bevzip output folder/);
    expect(e.message).toMatch(/checkpoints/);
    expect(e.message).toMatch(/report\.html/);
  });

  it('refuses a file, and a folder that would have to be made under a file', () => {
    const file = path.join(root, 'f');
    fs.writeFileSync(file, 'x');
    expect(refusal(() => checkOutDir(file, [])).message).toMatch(/is a file, not a folder/);
    expect(refusal(() => checkOutDir(path.join(file, 'sub'), [])).message).toMatch(/is a file, so no folder can be made/);
  });

  it('refuses a folder no file can be made in, whatever the permission bits say (here /proc)', () => {
    expect(refusal(() => checkOutDir('/proc/bevzip-out', [])).message).toMatch(/cannot write to '\/proc'/);
  });

  // Root may write into a mode-555 folder, so only other users can see this refusal for real.
  (process.getuid?.() === 0 ? it.skip : it)('refuses an unwritable parent (not as root)', () => {
    const ro = path.join(root, 'ro');
    fs.mkdirSync(ro, { mode: 0o555 });
    expect(refusal(() => checkOutDir(path.join(ro, 'out'), [])).message).toMatch(/cannot write/);
  });

  it('refuses an input read from inside the folder', () => {
    const out = path.join(root, 'out');
    const e = refusal(() => checkOutDir(out, [{ what: "the model (pipeline field 'model')", path: path.join(out, 'compressed') }]));
    expect(e.message).toMatch(/the model \(pipeline field 'model'\) is read from .*inside the output folder/);
  });

  describe('lock', () => {
    let holder: ChildProcess | undefined;
    afterEach(() => holder?.kill());

    it('is refused while a live process holds it, naming the pid', () => {
      const out = path.join(root, 'busy');
      holder = spawn('sleep', ['30']);
      fs.mkdirSync(out);
      fs.writeFileSync(path.join(out, LOCK_FILE), JSON.stringify({ pid: holder.pid, host: os.hostname(), startedAt: 'then' }));
      const before = snapshot(out);
      expect(refusal(() => takeOutDir(out, { command: 'test' })).message).toMatch(new RegExp(`in use by another bevzip run \\(pid ${holder.pid} on`));
      expect(snapshot(out)).toEqual(before);
    });

    it('held by a process that is gone is taken over with a warning', async () => {
      const out = path.join(root, 'stale');
      const gone = spawn('true');
      await new Promise((r) => gone.on('exit', r));
      fs.mkdirSync(out);
      fs.writeFileSync(path.join(out, LOCK_FILE), JSON.stringify({ pid: gone.pid, host: os.hostname(), startedAt: 'then' }));
      const warnings: string[] = [];
      const lock = takeOutDir(out, { command: 'test', onStale: (m) => warnings.push(m) });
      expect(warnings).toEqual([expect.stringContaining(`pid ${gone.pid}`)]);
      expect(JSON.parse(fs.readFileSync(path.join(out, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
      lock.release();
      expect(fs.existsSync(path.join(out, LOCK_FILE))).toBe(false);
    });
  });

  it('writes files and folders whole or not at all', () => {
    const file = path.join(root, 'a.json');
    writeFileAtomic(file, 'old');
    const dir = path.join(root, 'compressed');
    replaceDirAtomic(dir, (tmp) => {
      fs.mkdirSync(tmp);
      fs.writeFileSync(path.join(tmp, 'graph.json'), 'v1');
    });
    expect(() =>
      replaceDirAtomic(dir, (tmp) => {
        fs.mkdirSync(tmp);
        fs.writeFileSync(path.join(tmp, 'graph.json'), 'half');
        throw new Error('disk full');
      }),
    ).toThrow('disk full');
    expect(fs.readFileSync(path.join(dir, 'graph.json'), 'utf8')).toBe('v1');
    expect(fs.readdirSync(root).sort()).toEqual(['a.json', 'compressed']);
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
  });

  it('is checked by compress before anything is written: a project folder with its own checkpoints and report is left unchanged', async () => {
    const project = path.join(root, 'project');
    fs.mkdirSync(path.join(project, 'checkpoints', 'step-00000001'), { recursive: true });
    fs.writeFileSync(path.join(project, 'checkpoints', 'step-00000001', 'weights.bin'), 'user data');
    fs.writeFileSync(path.join(project, 'report.html'), '<p>my report</p>');
    const pipeline = path.join(root, 'p.yaml');
    fs.writeFileSync(
      pipeline,
      `model: { builder: bev-fusion, config: micro }
data:
  synthetic: { seed: 0, scenes: 1, framesPerScene: 2, valScenes: 1 }
stages:
  - { name: train, steps: 1, plugins: [] }
`,
    );
    const before = snapshot(project);
    const opts = { cwd: root, pipeline, log: () => undefined, richProgress: false, quietBackend: true };
    await expect(runCompress({ ...opts, out: project })).rejects.toMatchObject({ code: ERROR_CODES.OUTPUT, message: expect.stringMatching(/not a bevzip output folder/) });
    expect(snapshot(project)).toEqual(before);
    // The pipeline file itself may not live in the folder a run overwrites.
    const inside = path.join(root, 'out-with-pipeline');
    fs.mkdirSync(inside);
    fs.copyFileSync(pipeline, path.join(inside, 'p.yaml'));
    await expect(runCompress({ ...opts, pipeline: path.join(inside, 'p.yaml'), out: inside })).rejects.toMatchObject({ code: ERROR_CODES.OUTPUT, message: expect.stringMatching(/the pipeline file is read from/) });
  }, 60_000);
});
