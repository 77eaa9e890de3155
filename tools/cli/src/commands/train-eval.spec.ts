import { Command, CommanderError } from 'commander';
import { resolveTrainOptions } from '@bevzip/bev-fusion';
import { evalJson, evalTable, registerEval, type EvalCliOptions } from './eval';
import { registerTrain, trainOptionsFromCli, type TrainCliOptions } from './train';

/** A program with train and eval whose actions only record their options. */
function harness() {
  const seen: { train?: TrainCliOptions; eval?: EvalCliOptions } = {};
  let stderr = '';
  const program = new Command('bevzip')
    .exitOverride()
    .configureOutput({ writeErr: (s) => void (stderr += s), writeOut: () => {} });
  registerTrain(program, async (o) => void (seen.train = o));
  registerEval(program, async (o) => void (seen.eval = o));
  for (const c of program.commands)
    c.exitOverride().configureOutput({ writeErr: (s) => void (stderr += s), writeOut: () => {} });
  const parse = async (...args: string[]) => program.parseAsync(['node', 'bevzip', ...args]);
  return { seen, parse, stderr: () => stderr };
}

describe('bevzip train options', () => {
  it('parses a full command line into trainModel options with the documented defaults', async () => {
    const h = harness();
    await h.parse(
      'train',
      '--model',
      'tiny',
      '--modality',
      'camera',
      '--steps',
      '300',
      '--out',
      'runs/cam',
      '--eval-every',
      '100',
      '--no-resume',
    );
    const o = h.seen.train!;
    expect(o).toMatchObject({
      model: 'tiny',
      modality: 'camera',
      steps: 300,
      out: 'runs/cam',
      seed: 0,
      batchSize: 2,
      lr: 1e-3,
      evalEvery: 100,
      checkpointEvery: 200,
      resume: false,
      progress: true,
    });
    const lib = resolveTrainOptions(trainOptionsFromCli(o));
    expect(lib).toMatchObject({
      model: 'tiny',
      modality: 'camera',
      steps: 300,
      evalEvery: 100,
      resume: false,
      clipNorm: 35,
      weightDecay: 0.01,
    });
  });

  it('rejects an unknown modality and lists the valid ones', async () => {
    const h = harness();
    await expect(
      h.parse('train', '--modality', 'radar', '--steps', '1', '--out', 'x'),
    ).rejects.toBeInstanceOf(CommanderError);
    expect(h.stderr()).toMatch(/--modality.*'radar'.*fusion, camera, lidar/s);
    expect(h.seen.train).toBeUndefined();
  });

  it('rejects an unknown model, a non-integer step count and a missing --out with the expectation', async () => {
    const h = harness();
    await expect(h.parse('train', '--model', 'huge', '--steps', '1', '--out', 'x')).rejects.toThrow();
    expect(h.stderr()).toMatch(/micro, tiny, small/);
    await expect(h.parse('train', '--steps', '2.5', '--out', 'x')).rejects.toThrow();
    expect(h.stderr()).toMatch(/--steps.*integer ≥ 1.*'2\.5'/s);
    await expect(h.parse('train', '--steps', '3')).rejects.toThrow();
    expect(h.stderr()).toMatch(/--out/);
  });
});

describe('bevzip eval options and output', () => {
  it('requires --ckpt and validates --runtime', async () => {
    const h = harness();
    await expect(h.parse('eval')).rejects.toThrow();
    expect(h.stderr()).toMatch(/--ckpt/);
    await expect(h.parse('eval', '--ckpt', 'builtin:tiny-fusion', '--runtime', 'gpu')).rejects.toThrow();
    expect(h.stderr()).toMatch(/auto, onnxruntime, interpreter/);
    await h.parse('eval', '--ckpt', 'builtin:tiny-fusion', '--json');
    expect(h.seen.eval).toMatchObject({ ckpt: 'builtin:tiny-fusion', json: true, runtime: 'auto' });
    expect(h.seen.eval!.valFrames).toBeUndefined();
    await h.parse('eval', '--ckpt', 'builtin:tiny-fusion', '--val-frames', '24', '--val-scenes', '10', '--data-seed', '3');
    expect(h.seen.eval).toMatchObject({ valFrames: 24, valScenes: 10, dataSeed: 3 });
    await expect(h.parse('eval', '--ckpt', 'x', '--val-frames', '0')).rejects.toThrow();
    expect(h.stderr()).toMatch(/--val-frames.*expected an integer ≥ 1/);
  });

  it('says in --help that the standard split is the default and --val-frames takes its first frames', () => {
    const program = new Command('bevzip');
    registerEval(program);
    const eval_ = program.commands.find((c) => c.name() === 'eval')!;
    let help = '';
    eval_.configureOutput({ writeOut: (s) => void (help += s) });
    eval_.outputHelp();
    help = help.replace(/\s+/g, ' ');
    expect(help).toMatch(/standard synthetic validation split \(120 scenes × 3 frames/);
    expect(help).toMatch(/--val-frames <n> only the first N frames of the split/);
    expect(help).toMatch(/BEVZIP_CACHE_DIR/);
    expect(help).toMatch(/1000 resamples, seed 0/);
  });

  it('prints mAP, NDS and mIoU at the top level of the JSON and all eight figures in the table', () => {
    const r = {
      mAP: 0.5,
      NDS: 0.45,
      mATE: 0.3,
      mASE: 0.2,
      mAOE: 0.4,
      mAVE: 0.6,
      mAAE: 0.1,
      mIoU: 0.7,
      frames: 48,
      runtime: 'onnxruntime' as const,
      classes: ['car'],
      classAps: { car: 0.5 },
      gtCounts: { car: 9 },
      checkpoint: 'x',
      dir: '/x',
      model: 'tiny-fusion',
      modality: 'fusion',
      dataSeed: 0,
      split: { dataSeed: 0, firstScene: 100_000, scenes: 120, framesPerScene: 3, source: 'cache' as const, frames: 48, seconds: 0.1 },
      perFrame: undefined as never,
      intervals: { mAP: { lo: 0.41, hi: 0.58 }, NDS: { lo: 0.4, hi: 0.5 }, mIoU: { lo: NaN, hi: NaN } },
      bootstrap: { resamples: 1000, seed: 0, confidence: 0.95 },
    };
    const json = evalJson(r);
    expect(json).toMatchObject({
      mAP: 0.5,
      NDS: 0.45,
      mIoU: 0.7,
      mATE: 0.3,
      mASE: 0.2,
      mAOE: 0.4,
      mAVE: 0.6,
      mAAE: 0.1,
    });
    expect(evalJson({ ...r, mIoU: NaN }).mIoU).toBeNull();
    expect(json.intervals).toEqual({ mAP: { lo: 0.41, hi: 0.58 }, NDS: { lo: 0.4, hi: 0.5 }, mIoU: { lo: null, hi: null } });
    const table = evalTable(r);
    expect(table).toMatch(/the first 48 of 360 frames \(120 scenes × 3, data seed 0, cached\)/);
    expect(table).toMatch(/95% bootstrap over the 48 frames, 1000 resamples, seed 0/);
    for (const [label, v] of [
      ['mAP', '0.5000  \\[0.4100, 0.5800\\]'],
      ['NDS', '0.4500  \\[0.4000, 0.5000\\]'],
      ['mATE', '0.3000'],
      ['mAAE', '0.1000'],
      ['map mIoU', '0.7000'],
    ])
      expect(table).toMatch(new RegExp(`${label}\\s+${v}`));
  });
});
